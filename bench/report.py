#!/usr/bin/env python3
"""BENCHMARKS.md's load block from one `make bench-load` output directory.

    bench/report.py LOAD_OUT                          # the markdown block on stdout
    bench/report.py LOAD_OUT --write BENCHMARKS.md    # written between the file's markers
    bench/report.py LOAD_OUT --label "Short test run"  # a bold line saying what the run was

LOAD_OUT holds cps/results.tsv (bench/cps.sh), media/results.txt (bench/media.sh), and
optionally sustain/results.txt and sustain-blf/results.txt (bench/sustain.sh with BLF=0 and
BLF=1) and env.txt (commit= go= lines, written by
`make bench-load`). The block: date, machine (nproc, CPU model, load average and CPU pressure
at the start), commit; issue 14's targets with the measured values and ratios, met or missed
and by how much; then every raw row. Nothing is copied by hand: the tables come from the files.
With --write, the text between `<!-- make bench-load: begin -->` and `<!-- make bench-load:
end -->` is replaced (the markers must be there; the rest of the file is left as it was).
"""

import argparse
import os
import re
import sys

BEGIN, END = "<!-- make bench-load: begin -->", "<!-- make bench-load: end -->"
SIDECAR, SIPP, DIAGO = "sidecar-echo", "uas-200", "diago-echo"
# The sidecar with BLF: the shipped subscriber template (publish-dialog-info = yes), two PUBLISHes
# per call to the bench's presence server. Not issue 14's path (filed before BLF; the references
# publish nothing): its rows are shown next to the targets, never in their ratios.
SIDECAR_BLF = "sidecar-echo-blf"


def read_cps(path):
    """(header comments, rows as dicts by column name) of cps.sh's results.tsv."""
    comments, rows, head = [], [], None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                comments.append(line[1:].strip())
                continue
            cols = line.split("\t")
            if cols[0] == "target":
                head = cols
                continue
            if head is None or len(cols) != len(head):
                sys.exit(f"{path}:{n}: a row without the header's columns")
            rows.append(dict(zip(head, cols)))
    return comments, rows


def read_kv(path):
    """(header comments, [(target, {key: value})]) of a media.sh or sustain.sh results file."""
    comments, rows = [], []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#"):
                comments.append(line[1:].strip())
            elif line:
                name, *kv = line.split()
                rows.append((name, dict(p.split("=", 1) for p in kv if "=" in p)))
    return comments, rows


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fmt(v, nd=1):
    if v is None:
        return "-"
    if abs(v - round(v)) < 1e-9 and abs(v) >= 10:
        return f"{v:,.0f}"
    return f"{v:,.{nd}f}"


def verdict_at_most(value, target):
    """'yes' or 'no: X.XXx the target' for a value that must stay at or below target."""
    if value is None:
        return "not measured"
    return "yes" if value <= target else f"**no**: {value / target:.2f}x the limit"


def verdict_at_least(value, target):
    if value is None:
        return "not measured"
    return "yes" if value >= target else f"**no**: {value / target:.2f} of it"


def machine(comments):
    """Date, nproc, CPU, load average and CPU pressure from the first results' header lines."""
    text = " ".join(comments)
    date = re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)", text)
    nproc = re.search(r"nproc=(\d+)", text)
    cpu = re.search(r"cpu=\s*(.*?)(?:$|#| load)", comments[0] if comments else "")
    load = re.search(r"load average: ([\d.]+, [\d.]+, [\d.]+)", text)
    psi = re.search(r"cpu-pressure=\[some (avg10=[\d.]+ avg60=[\d.]+)", text)
    return (date.group(1) if date else "?", nproc.group(1) if nproc else "?",
            cpu.group(1).strip() if cpu else "?", load.group(1) if load else "?",
            psi.group(1) if psi else "?")


def ladder(rows):
    """Highest clean rate per target and CPU per call by (target, rate)."""
    best, us = {}, {}
    for r in rows:
        c = int(r["cps"])
        us[(r["target"], c)] = num(r["srv_us/call"])
        if r["verdict"] == "clean":
            best[r["target"]] = max(best.get(r["target"], 0), c)
    return best, us


def report(out, label):
    ccom, crows = read_cps(os.path.join(out, "cps", "results.tsv"))
    mcom, mrows = read_kv(os.path.join(out, "media", "results.txt"))
    srows = []
    for sub in ("sustain", "sustain-blf"):
        spath = os.path.join(out, sub, "results.txt")
        if os.path.exists(spath):
            srows += read_kv(spath)[1]
    env = {}
    if os.path.exists(os.path.join(out, "env.txt")):
        with open(os.path.join(out, "env.txt")) as f:
            env = dict(l.strip().split("=", 1) for l in f if "=" in l)
    date, nproc, cpu, load, psi = machine(ccom)
    settings = next((c for c in ccom if c.startswith("rates=")), "")
    L = []
    L.append(f"_Generated by `make bench-load UPDATE=1` (bench/report.py) from `{out}`: edit the "
             "scripts, not this block._")
    L.append("")
    if label:
        L.append(f"**{label}**")
        L.append("")
    L.append(f"**Date:** {date}. **Machine:** `nproc` = {nproc}, CPU {cpu}, load average at the "
             f"start {load}, CPU pressure at the start (some) {psi}. **Commit:** "
             f"`{env.get('commit', '?')}` ({env.get('go', '?')}).")
    L.append(f"**Ladder:** {settings.split(' sidecar=')[0]}; each target stops at its first unclean "
             "step. Clean = every call answered (0 failed), retransmissions below 0.1% of the "
             "INVITEs, INVITE->final p99 <= 50 ms, and SIPp kept the rate; only clean steps count. "
             f"`{SIDECAR}` is issue 14's path (trust, header identification, both profiles, dialplan "
             "`Answer` + `Echo` with an RTP session, BYE) with the bench's template `subscriber-noblf` "
             "(the shipped `subscriber` with `publish-dialog-info = no`): the targets' ratios are "
             f"computed on it. `{SIDECAR_BLF}` is the same call with the shipped `subscriber` "
             "(BLF on): two PUBLISHes per call, answered by `rtpload presence` (bench/README.md); "
             "its rows are shown for what BLF costs, outside the ratios.")
    L.append("")
    L.append("![load chart: p99 and CPU per call against the call rate, echo media CPU against "
             "concurrent calls, sustained RSS](BENCHMARKS.png)")
    L.append("")

    # Targets.
    best, us = ladder(crows)
    sc, sp, dg = best.get(SIDECAR, 0), best.get(SIPP, 0), best.get(DIAGO, 0)
    T = ["| target (issue 14) | measured | reference in the same run | ratio | limit | met |",
         "|---|---|---|---|---|---|"]
    T.append(f"| highest clean rate, sidecar / `sipp -sn uas` | {sc:,} cps | {sp:,} cps | "
             f"{fmt(sc / sp if sp else None, 2)} | >= 0.3 (stretch 0.5) | "
             f"{verdict_at_least(sc / sp if sp else None, 0.3)} |")
    T.append(f"| highest clean rate, sidecar / diago peer | {sc:,} cps | {dg:,} cps | "
             f"{fmt(sc / dg if dg else None, 2)} | >= 1.5 | {verdict_at_least(sc / dg if dg else None, 1.5)} |")
    T.append(f"| highest clean rate, sidecar | {sc:,} cps | | | >= 5,000 | {verdict_at_least(sc, 5000)} |")
    for ref, lim, name in ((SIPP, 3.0, "`sipp -sn uas`"), (DIAGO, None, "diago peer")):
        r = min(sc, best.get(ref, 0))
        if not r:
            T.append(f"| CPU per call, sidecar / {name} | no rate where both were clean | | | "
                     f"{'<= 3' if lim else ''} | {'not measured' if lim else ''} |")
            continue
        a, b = us.get((SIDECAR, r)), us.get((ref, r))
        ratio = a / b if r and a and b else None
        T.append(f"| CPU per call, sidecar / {name} (at {r:,} cps, both clean) | {fmt(a)} us | {fmt(b)} us | "
                 f"{fmt(ratio, 2)} | {'<= 3' if lim else ''} | {verdict_at_most(ratio, lim) if lim else ''} |")
    bb = best.get(SIDECAR_BLF)
    if any(r["target"] == SIDECAR_BLF for r in crows):
        T.append(f"| with BLF (`{SIDECAR_BLF}`): highest clean rate / `sipp -sn uas` | {bb or 0:,} cps | "
                 f"{sp:,} cps | {fmt(bb / sp if bb and sp else None, 2)} | for information | |")
        for ref, name in ((SIDECAR, f"without BLF (`{SIDECAR}`)"), (SIPP, "`sipp -sn uas`")):
            r = min(bb or 0, best.get(ref, 0))
            a, b = us.get((SIDECAR_BLF, r)), us.get((ref, r))
            if not (r and a and b):
                T.append(f"| with BLF: CPU per call / {name} | no rate where both were clean | | | for information | |")
                continue
            T.append(f"| with BLF: CPU per call / {name} (at {r:,} cps, both clean) | {fmt(a)} us | {fmt(b)} us | "
                     f"{fmt(a / b, 2)} | for information | |")
        pubs = [(int(r["cps"]), r.get("pub/call", "NA"), r["verdict"]) for r in crows if r["target"] == SIDECAR_BLF]
        T.append(f"| with BLF: PUBLISHes answered per call (2 = every state sent) | "
                 + ", ".join(f"{p} at {c:,}{'' if v == 'clean' else ' (unclean)'}" for c, p, v in pubs)
                 + " | | | for information | |")
    media = {}
    for name, kv in mrows:
        media.setdefault(int(kv.get("calls", 0)), {})[name] = kv
    if media:
        n = max(media)
        m = media[n]
        pk = lambda t: num(m.get(t, {}).get("srv_us_per_pkt"))
        s, r, d = pk("sidecar"), pk("reflector"), pk("diago")
        T.append(f"| CPU per echoed packet, sidecar / reflector ({n} calls) | {fmt(s, 2)} us | {fmt(r, 2)} us | "
                 f"{fmt(s / r if s and r else None, 2)} | <= 1.2 | {verdict_at_most(s / r if s and r else None, 1.2)} |")
        T.append(f"| CPU per echoed packet, sidecar / diago peer ({n} calls) | {fmt(s, 2)} us | {fmt(d, 2)} us | "
                 f"{fmt(s / d if s and d else None, 2)} | < 1 | "
                 f"{'not measured' if not (s and d) else ('yes' if s < d else f'**no**: {s / d:.2f}x')} |")
        loss = num(m.get("sidecar", {}).get("lost_pct"))
        T.append(f"| echo loss, sidecar ({n} calls) | {fmt(loss, 2)}% | | | < 0.1% | "
                 f"{'not measured' if loss is None else ('yes' if loss < 0.1 else '**no**')} |")
        kb, dkb = num(m.get("sidecar", {}).get("rss_per_call_kb")), num(m.get("diago", {}).get("rss_per_call_kb"))
        T.append(f"| memory per active call, sidecar ({n} calls, RSS) | {fmt(kb)} KiB | diago {fmt(dkb)} KiB | | "
                 f"<= 32 KiB | {verdict_at_most(kb, 32)} |")
    for name, kv in srows:
        rate, secs = kv.get("rate"), kv.get("secs")
        if kv.get("blf") == "1":
            # With BLF: for information, next to the targets (which the BLF=0 step measures).
            T.append(f"| with BLF: sustained {int(rate):,} cps for {secs} s | {kv.get('ok')} ok, "
                     f"{kv.get('failed')} failed, {kv.get('retrans')} retrans, p99 {kv.get('p99_ms')} ms, "
                     f"{kv.get('srv_us_per_call')} us/call, {kv.get('pub_per_call')} PUBLISH/call, "
                     f"{kv.get('blf_dropped')} BLF events dropped | | | for information | "
                     f"{kv.get('verdict')}{'' if kv.get('verdict') == 'clean' else ' (' + kv.get('why', '?') + ')'} |")
            continue
        T.append(f"| sustained {int(rate):,} cps for {secs} s (clean as above) | {kv.get('ok')} ok, "
                 f"{kv.get('failed')} failed, {kv.get('retrans')} retrans, p99 {kv.get('p99_ms')} ms | | | "
                 f"clean at >= 5,000 cps | "
                 f"{'**no**: unclean (' + kv.get('why', '?') + ')' if kv.get('verdict') != 'clean' else ('yes' if int(rate) >= 5000 else '**no**: clean, but the rate is below 5,000')} |")
        e, l = num(kv.get("rss_early_kb")), num(kv.get("rss_late_kb"))
        ratio = l / e if e and l else None
        T.append(f"| RSS at second {kv.get('rss_late_s')} / second {kv.get('rss_early_s')} | "
                 f"{fmt(l / 1024 if l else None)} / {fmt(e / 1024 if e else None)} MiB | | {fmt(ratio, 3)} | "
                 f"within 10% | {'not measured' if ratio is None else ('yes' if abs(ratio - 1) <= 0.10 else f'**no**: {100 * (ratio - 1):+.0f}%')} |")
        rb, lb = num(kv.get("retained_b_per_call")), num(kv.get("live_b_per_call"))
        T.append(f"| retained heap per finished call ({kv.get('settle_s')} s after the last, forced GC, "
                 f"heap in use minus idle) | {fmt(rb, 0)} B (live objects {fmt(lb, 0)} B) | | | <= 1 KB | "
                 f"{verdict_at_most(rb, 1024)} |")
    L += T
    L.append("")

    # Raw tables.
    L.append("Call-setup ladder, raw (`bench/cps.sh`: SIPp UAC `-r RATE -m RATE*STEP`, answered echo "
             "calls; srv us/call = server utime+stime over the step / answered calls; pub/call = "
             "PUBLISHes the presence server answered per call):")
    L.append("")
    L.append("| target | cps | ok | failed | retrans | p50 ms | p99 ms | srv us/call | srv CPU % | "
             "peak RSS MiB | kernel drops | SIPp CPU % | SIPp s | pub/call | verdict |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in crows:
        v = r["verdict"] if r["verdict"] == "clean" else f"**unclean** ({r.get('why', '?')})"
        L.append(f"| {r['target']} | {int(r['cps']):,} | {r['ok']} | {r['failed']} | {r['retrans']} | "
                 f"{r['p50_ms']} | {r['p99_ms']} | {r['srv_us/call']} | {r['srv_cpu%']} | {r['srv_peak_MiB']} | "
                 f"{r['kdrops']} | {r['sipp_cpu%']} | {r['sipp_s']} | {r.get('pub/call', 'NA')} | {v} |")
    L.append("")
    if mrows:
        dur = re.search(r"DUR=(\S+)", " ".join(mcom))
        L.append(f"Echo media, raw (`bench/media.sh`: N concurrent `*43` calls, 50 PCMU packets/s each "
                 f"way for {dur.group(1) if dur else '?'}; us/packet = server CPU over echoed packets; "
                 "RSS per call = RSS growth with the N calls up / N):")
        L.append("")
        L.append("| target | calls | sent | echoed | lost % | silent calls | srv CPU s | us/packet | "
                 "RSS per call KiB | generator CPU % |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for name, kv in mrows:
            g = kv.get
            L.append(f"| {name} | {g('calls')} | {g('sent')} | {g('echoed')} | {g('lost_pct')} | "
                     f"{g('silent_calls')} | {g('srv_cpu_s')} | {g('srv_us_per_pkt')} | "
                     f"{g('rss_per_call_kb') if name != 'reflector' else '-'} | {g('gen_cpu_pct')} |")
        L.append("")
    for name, kv in srows:
        blf = kv.get("blf") == "1"
        L.append(f"Sustained step{' with BLF' if blf else ''}, raw (`{'BLF=1 ' if blf else ''}bench/sustain.sh`: the "
                 f"sidecar as `bench/sidecarprof` without profiles, template `{'subscriber' if blf else 'subscriber-noblf'}`; "
                 f"RSS sampled every second into `{'sustain-blf' if blf else 'sustain'}/rss.tsv`; heap figures after a forced "
                 "GC, idle = 2 s after start, after = settle_s after the last call):")
        L.append("")
        L.append("```")
        line = name
        for k, v in kv.items():
            if len(line) + len(k) + len(v) + 2 > 100:
                L.append(line)
                line = " "
            line += f" {k}={v}"
        L.append(line)
        L.append("```")
        L.append("")
    return "\n".join(L).rstrip("\n") + "\n"


def write(path, block):
    with open(path) as f:
        text = f.read()
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        sys.exit(f"{path}: no {BEGIN} ... {END} markers; add them where the block goes")
    text = text[:i + len(BEGIN)] + "\n" + block + text[j:]
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="make bench-load's LOAD_OUT directory")
    ap.add_argument("--write", metavar="FILE", help="replace the block between the markers of FILE")
    ap.add_argument("--label", default="", help="a bold line at the top of the block")
    a = ap.parse_args()
    block = report(a.out, a.label)
    if a.write:
        write(a.write, block)
    else:
        sys.stdout.write(block)


if __name__ == "__main__":
    main()
