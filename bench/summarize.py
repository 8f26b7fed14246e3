#!/usr/bin/env python3
"""Medians over several bench/cps.sh runs: bench/summarize.py OUT1 OUT2 OUT3.

For every (target, rate) it prints the median server CPU per call and the raw per-run values,
with each run's verdict (c = clean, U = unclean) and INVITE->200 p99; then the highest clean
rate of each target per run and its median; then, per rate, the ratio of CPU per call sidecar / reference in every run
where both were clean, and the median ratio.
"""

import statistics
import sys
from collections import defaultdict

PAIRS = (("sidecar-486", "uas-486"), ("sidecar-echo", "uas-200"), ("diago-echo", "uas-200"),
         ("sidecar-echo", "diago-echo"))


def load(path):
    """Rows of OUT/results.tsv by (target, rate), as dicts keyed by the header's names."""
    rows, header = {}, None
    with open(path + "/results.tsv") as f:
        for line in f:
            if line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if cols[0] == "target":
                header = cols
                continue
            r = dict(zip(header, cols))
            rows[(r["target"], int(r["cps"]))] = r
    return rows


def main(dirs):
    runs = [load(d) for d in dirs]
    keys = sorted({k for run in runs for k in run}, key=lambda k: (k[1], k[0]))
    print("target\tcps\tmedian_us/call\tper-run us/call\tverdicts\tpeak_MiB\tsipp_cpu%\tp99_ms")
    for k in keys:
        got = [run[k] for run in runs if k in run]
        us = [float(r["srv_us/call"]) for r in got]
        print(f"{k[0]}\t{k[1]}\t{statistics.median(us):.1f}\t{us}\t"
              f"{''.join(r['verdict'][0] for r in got)}\t{[r['srv_peak_MiB'] for r in got]}\t"
              f"{[r['sipp_cpu%'] for r in got]}\t{[r.get('p99_ms', 'NA') for r in got]}")
    targets = sorted({k[0] for k in keys})
    for t in targets:
        best = [max([c for (tt, c), r in run.items() if tt == t and r["verdict"] == "clean"], default=0)
                for run in runs]
        print(f"# highest clean rate {t}: {best}, median {statistics.median(best):g}")
    for a, b in PAIRS:
        for c in sorted({k[1] for k in keys}):
            ratios = [float(run[(a, c)]["srv_us/call"]) / float(run[(b, c)]["srv_us/call"])
                      for run in runs if (a, c) in run and (b, c) in run
                      and run[(a, c)]["verdict"] == run[(b, c)]["verdict"] == "clean"]
            if ratios:
                print(f"# cpu/call {a} / {b} at {c} cps: {[round(x, 2) for x in ratios]}, "
                      f"median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: bench/summarize.py OUT_DIR...")
    main(sys.argv[1:])
