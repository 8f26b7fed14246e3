#!/usr/bin/env bash
# bench/sustain.sh: the sidecar under a steady call rate for a long step, and its memory.
#
# One SIPp UAC places SUSTAIN_RATE answered echo calls per second for SUSTAIN seconds (the
# cps.sh sidecar-echo step: INVITE *43 with X-Caller-Template, 200 with SDP, ACK, HOLD_MS hold,
# BYE) against bench/sidecarprof (`sidecar serve` as cmd/sidecar wires it, with a forced-GC heap
# statistics hook; profiles off unless PROFILE=1). BLF=0 (the default) is issue 14's path: the
# UAC names the bench's template subscriber-noblf (bench/templates/bench.conf, the shipped
# subscriber with publish-dialog-info = no), as cps.sh's sidecar-echo; BLF=1 names the shipped
# subscriber, as cps.sh's sidecar-echo-blf: two PUBLISHes per call, answered by `rtpload
# presence`. The sidecar's resident set size (and CPU ticks) is sampled every second into
# OUT/rss.tsv; SIPp's outcome is judged as a cps.sh step (0 failed calls, retransmissions below
# RETRANS_PERMILLE per mille of the INVITEs, p99 <= P99_MS, the rate kept). Memory:
#   - flatness: RSS at second EARLY (20, or SUSTAIN/3 when shorter) against second SUSTAIN;
#   - retained per finished call: heap in use (runtime.MemStats.HeapInuse: spans holding objects)
#     after a forced GC SETTLE seconds after SIPp ended, minus the idle process's (forced GC 2 s
#     after start, before any call), over the finished calls (answered + failed:
#     retained_b_per_call); the same with the live bytes (HeapAlloc after the GC:
#     live_b_per_call). The sidecar's memory per ACTIVE call comes from media.sh.
#
# Settings (environment): SUSTAIN_RATE (3000), SUSTAIN (60 s), SETTLE (10 s), HOLD_MS (100),
# RETRANS_PERMILLE (1), P99_MS (50), BLF (0; 1: the shipped subscriber template, with BLF),
# PRESENCE (1; 0: no presence server, PUBLISHes go to SIPp),
# PROFILE (0; 1 writes OUT/cpu.pprof and OUT/heap.pprof), OUT (default a new directory under
# /tmp, kept), SIDECARPROF and RTPLOAD (built binaries; default built from this tree into OUT).
# Loopback only, free ports, bounded (SIPp by timeout(1): at most SUSTAIN + SETTLE + 45 s), everything started is
# stopped on exit. Output: one key=value line on stdout and in OUT/results.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SUSTAIN_RATE=${SUSTAIN_RATE:-3000}
SUSTAIN=${SUSTAIN:-60}
SETTLE=${SETTLE:-10}
HOLD_MS=${HOLD_MS:-100}
RETRANS_PERMILLE=${RETRANS_PERMILLE:-1}
P99_MS=${P99_MS:-50}
PRESENCE=${PRESENCE:-1}
BLF=${BLF:-0}
PROFILE=${PROFILE:-0}
OUT=${OUT:-$(mktemp -d /tmp/sidecar-sustain.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
early=$((SUSTAIN / 3 < 20 ? SUSTAIN / 3 : 20))

for tool in sipp python3 /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "sustain.sh: $tool not found" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

. "$here/lib.sh"
trap cleanup EXIT INT TERM

if [ -z "${SIDECARPROF:-}" ]; then
	SIDECARPROF=$OUT/sidecarprof
	(cd "$root" && go build -o "$SIDECARPROF" ./bench/sidecarprof)
fi
if [ -z "${RTPLOAD:-}" ]; then
	RTPLOAD=$OUT/rtpload
	(cd "$root" && go build -o "$RTPLOAD" ./bench/rtpload)
fi
[ "$PRESENCE" = 1 ] && start_presence "$RTPLOAD"
bench_templates "$OUT/templates"
tmpl=$(caller_template sidecar-echo) # subscriber-noblf
[ "$BLF" = 1 ] && tmpl=$(caller_template sidecar-echo-blf)

read -r sp rtp up cp mp <<<"$(free_ports 5)"
cat >"$OUT/sidecar.ini" <<EOF
[general]
log-level = warn
templates = $templates_dir
[sip]
listen = udp:127.0.0.1:$sp
trusted = 127.0.0.0/8
identify = header
max-calls = 100000
ack-timeout = 5s
drain-grace = 1s
[rtp]
ports = $((rtp + 10000))-$((rtp + 19999))
address = 127.0.0.1
bind = 127.0.0.1
EOF
if [ -n "${presence_port:-}" ]; then
	printf '[presence]\nserver = sip:127.0.0.1:%s\n' "$presence_port" >>"$OUT/sidecar.ini"
fi

{
	machine_line
	echo "# sustain rate=${SUSTAIN_RATE}cps for ${SUSTAIN}s settle=${SETTLE}s hold=${HOLD_MS}ms blf=$BLF template=$tmpl presence=${presence_port:+127.0.0.1:}${presence_port:-none} server=$SIDECARPROF"
} | tee "$OUT/results.txt"

prof=(-cpu "" -heap "")
[ "$PROFILE" = 1 ] && prof=(-cpu "$OUT/cpu.pprof" -heap "$OUT/heap.pprof")
rm -f "$OUT/memstats.txt"
"$SIDECARPROF" -config "$OUT/sidecar.ini" -for "$((SUSTAIN + SETTLE + 90))s" -memstats "$OUT/memstats.txt" \
	"${prof[@]}" >"$OUT/sidecar.log" 2>&1 &
spid=$!
pids+=("$spid")
wait_udp "$sp" "$spid"

# memstat N: forces a GC in the sidecar (SIGUSR1) and waits for line N of OUT/memstats.txt.
memstat() {
	kill -USR1 "$spid"
	for _ in $(seq 100); do
		[ "$(wc -l <"$OUT/memstats.txt" 2>/dev/null || echo 0)" -ge "$1" ] && return 0
		sleep 0.1
	done
	echo "sustain.sh: no heap statistics from the sidecar (see $OUT/sidecar.log)" >&2
	return 1
}
sleep 2
memstat 1

# One sample a second from the UAC's start until the sidecar exits: ms since start, RSS (KiB),
# CPU ticks.
(
	start=$(date +%s%N) i=0
	while r=$(rss_kb "$spid") && [ -n "$r" ]; do
		printf '%d\t%s\t%s\n' "$((($(date +%s%N) - start) / 1000000))" "$r" "$(cpu_ticks "$spid")"
		i=$((i + 1))
		d=$((start + i * 1000000000 - $(date +%s%N)))
		[ "$d" -gt 0 ] && sleep "$(awk -v d="$d" 'BEGIN {printf "%.3f", d / 1e9}')"
	done
) >"$OUT/rss.tsv" 2>/dev/null &
pids+=("$!")
sampler=$!

calls=$((SUSTAIN_RATE * SUSTAIN))
stf=$OUT/sipp.stat.csv rttd=$OUT/rttdir
rm -rf "$stf" "$rttd"
mkdir "$rttd"
c0=$(cpu_ticks "$spid") d0=$(udp_drops "$sp") pb0=$(presence_count)
# SIPp's -timeout waits for calls in progress to end, which never happens when the server is
# gone: timeout(1) bounds it for certain.
(cd "$rttd" && /usr/bin/time -f '%U %S %e' -o "$OUT/sipp.time" timeout -k 5 "$((SUSTAIN + 30))" \
	sipp "127.0.0.1:$sp" -sf "$here/sipp/uac_answer.xml" -s '*43' -d "$HOLD_MS" -p "$up" -cp "$cp" -mp "$mp" \
	-key caller_template "$tmpl" "${sipp_common[@]}" -r "$SUSTAIN_RATE" -rp 1000 -m "$calls" -l "$calls" -timeout "$((SUSTAIN + 20))s" \
	-trace_stat -stf "$stf" -fd 1 -trace_rtt -rtt_freq 1 -trace_err -error_file "$OUT/sipp.err" \
	>"$OUT/sipp.log" 2>&1) || true
sleep 0.3
alive=1
kill -0 "$spid" 2>/dev/null || alive=0
if [ "$alive" = 1 ]; then
	c1=$(cpu_ticks "$spid")
else # the last sample's ticks
	c1=$(tail -1 "$OUT/rss.tsv" | cut -f3)
	echo "sustain.sh: the sidecar exited during the load (see $OUT/sidecar.log)" >&2
fi
d1=$(udp_drops "$sp") pb1=$(presence_count)
cat "$rttd"/*_rtt.csv >"$OUT/sipp.rtt.csv" 2>/dev/null || true
rm -rf "$rttd"
if [ "$alive" = 1 ]; then
	sleep "$SETTLE"
	memstat 2 || true
fi
kill "$sampler" 2>/dev/null || true

ok=$(stat_col "$stf" 'SuccessfulCall(C)') fail=$(stat_col "$stf" 'FailedCall(C)')
retr=$(stat_col "$stf" 'Retransmissions(C)')
read -r u s e <<<"$(tail -1 "$OUT/sipp.time")"
read -r p50 p99 <<<"$(rtt_pct "$OUT/sipp.rtt.csv")"
pub=NA
[ -n "${presence_port:-}" ] && pub=$((pb1 - pb0))
# BLF events the sidecar dropped (its queue was full): it logs the running count every 100.
blfdrop=$(grep -o 'BLF event dropped: queue full.* dropped=[0-9]*' "$OUT/sidecar.log" | tail -1 | sed 's/.*dropped=//' || true)

awk -v blf="$BLF" -v rate="$SUSTAIN_RATE" -v secs="$SUSTAIN" -v settle="$SETTLE" -v early="$early" -v calls="$calls" \
	-v ok="$ok" -v fail="$fail" -v retr="$retr" -v p50="$p50" -v p99="$p99" -v cpu="$((c1 - c0))" -v hz="$hz" \
	-v drops="$((d1 - d0))" -v u="$u" -v s="$s" -v e="$e" -v hold="$HOLD_MS" -v pm="$RETRANS_PERMILLE" \
	-v p99max="$P99_MS" -v pub="$pub" -v memfile="$OUT/memstats.txt" -v alive="$alive" -v blfdrop="${blfdrop:-0}" '
	function kv(line, key,  n, i, a, f) {
		n = split(line, f, " ")
		for (i = 1; i <= n; i++) {split(f[i], a, "="); if (a[1] == key) return a[2]}
		return "NA"
	}
	# rss.tsv: the sample nearest each second asked for, and the peak over the load.
	{
		for (k = 1; k <= 2; k++) {
			want = (k == 1 ? early : secs) * 1000; d = $1 - want; if (d < 0) d = -d
			if (!(k in best) || d < best[k]) {best[k] = d; rss[k] = $2}
		}
		if ($1 <= (e + 0.5) * 1000 && $2 > peak) peak = $2
	}
	END {
		getline idle <memfile; getline after <memfile
		okn = ok + 0
		why = ""
		if (ok != calls || fail + 0 != 0) why = why ",failed"
		if (retr == "NA" || retr * 1000 >= pm * calls) why = why ",retrans"
		if (e > secs + hold / 1000 + 2) why = why ",behind"
		if (p99 == "NA" || p99 + 0 > p99max) why = why ",p99"
		if (!alive) why = why ",server-exited"
		fin = okn + fail	# finished calls, answered or failed: each may leave state behind
		hi = kv(idle, "heap_inuse_kb"); ha = kv(after, "heap_inuse_kb")
		li = kv(idle, "heap_alloc_kb"); la = kv(after, "heap_alloc_kb")
		printf "sustain blf=%d rate=%d secs=%d calls=%d ok=%s failed=%s retrans=%s p50_ms=%s p99_ms=%s", blf, rate, secs,
			calls, ok, fail, retr, p50, p99
		printf " srv_us_per_call=%.1f srv_cpu_pct=%.1f kdrops=%d sipp_cpu_pct=%.0f sipp_s=%s pub_per_call=%s",
			(okn ? cpu * 1e6 / hz / okn : 0), (e > 0 ? cpu * 100 / hz / e : 0), drops, (e > 0 ? 100 * (u + s) / e : 0), e,
			(pub == "NA" || !okn) ? "NA" : sprintf("%.2f", pub / okn)
		printf " blf_dropped=%s", blfdrop
		printf " rss_early_s=%d rss_early_kb=%d rss_late_s=%d rss_late_kb=%d rss_late_over_early=%.3f rss_peak_kb=%d",
			early, rss[1], secs, rss[2], (rss[1] ? rss[2] / rss[1] : 0), peak
		printf " heap_idle_kb=%s heap_after_kb=%s settle_s=%d retained_b_per_call=%s live_idle_kb=%s live_after_kb=%s",
			hi, ha, settle, ((fin && hi != "NA" && ha != "NA") ? sprintf("%.0f", (ha - hi) * 1024 / fin) : "NA"), li, la
		printf " live_b_per_call=%s rss_after_kb=%s goroutines_after=%s",
			((fin && li != "NA" && la != "NA") ? sprintf("%.0f", (la - li) * 1024 / fin) : "NA"),
			kv(after, "rss_kb"), kv(after, "goroutines")
		printf " verdict=%s why=%s\n", why == "" ? "clean" : "UNCLEAN", why == "" ? "-" : substr(why, 2)
	}' "$OUT/rss.tsv" | tee -a "$OUT/results.txt"
echo "# output in $OUT (rss.tsv: ms since the UAC started, RSS KiB, CPU ticks; memstats.txt: idle, after)"
