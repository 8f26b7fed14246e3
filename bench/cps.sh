#!/usr/bin/env bash
# bench/cps.sh: call-setup rate of `sidecar serve` next to a SIPp reference server, side by side.
#
# For each rate step (calls per second) and each target, one SIPp UAC places RATE*STEP calls at
# RATE calls/s against the target over loopback UDP, and the script records SIPp's outcome
# (successful and failed calls, retransmissions, from -trace_stat; the INVITE->200 time of every
# call, from -trace_rtt, as p50 and p99), the server's CPU per call
# (/proc/PID/stat utime+stime delta over the step), its peak RSS (VmHWM), the kernel's receive
# buffer drops at the server's socket (/proc/net/udp) and SIPp's own CPU (so the generator is
# seen to stay under ~70% of a core). All targets run at one rate before the next rate starts,
# so every ratio compares measurements of the same minute. A target stops at its first unclean
# step (a failed call, retransmissions above RETRANS_PERMILLE per mille of the calls, or a UAC
# that could not place the calls within STEP+2 s).
#
# Targets (TARGETS, space-separated):
#   sidecar-486   sidecar serve, INVITE to *486 with X-Caller-Template: identify, profile build,
#                 dialplan, 486, ACK                                  (bench/sipp/uac_486.xml)
#                 The sidecar-* targets other than *-blf name the bench's template
#                 subscriber-noblf (bench/templates/bench.conf: the shipped subscriber with
#                 publish-dialog-info = no): issue 14's path, without BLF, as the references.
#   uas-486       reference: SIPp answering every INVITE 486          (bench/sipp/uas_486.xml)
#   sidecar-echo  sidecar serve, INVITE to *43 (echo): 200 with SDP (an RTP session is opened),
#                 ACK, HOLD_MS hold without RTP, BYE, 200             (bench/sipp/uac_answer.xml)
#   sidecar-echo-blf  the same with the shipped subscriber template (publish-dialog-info = yes):
#                 two PUBLISHes per call (confirmed, terminated) to `rtpload presence`
#   uas-200       reference: `sipp -sn uas` (180, 200, ACK, BYE, 200), same UAC scenario
#   diago-echo    peer: bench/diagoecho, an echo server on github.com/emiago/diago (its own Go
#                 module): 100, 200 with SDP, ACK, hold, BYE, 200, same UAC scenario as sidecar-echo
#
# Settings (environment): RATES ("500 1000 2000 3000 4000"), STEP (seconds per step, 5),
# HOLD_MS (100), TARGETS (all six), RETRANS_PERMILLE (1), P99_MS (50: the footer's "highest clean
# rate with p99 <= P99_MS"), OUT (output directory; default a new directory under /tmp, kept),
# DIAGO_RTP (diago-echo's RTP ports, 20000-30000), SIDECAR (a built binary; default: built from
# this tree into OUT), DIAGOECHO (likewise for bench/diagoecho; when it cannot be built, e.g.
# offline with an empty module cache, diago-echo is dropped with a note).
# Loopback only, free ports probed at start, everything it starts is stopped on exit; the
# soft open-files limit is raised to the hard limit. Output: one line per step on stdout and
# OUT/results.tsv; SIPp's stat files and logs stay in OUT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
RATES=${RATES:-"500 1000 2000 3000 4000"}
STEP=${STEP:-5}
HOLD_MS=${HOLD_MS:-100}
TARGETS=${TARGETS:-"sidecar-486 uas-486 sidecar-echo sidecar-echo-blf uas-200 diago-echo"}
RETRANS_PERMILLE=${RETRANS_PERMILLE:-1}
P99_MS=${P99_MS:-50}
# diago's RTP ports: its allocator walks its range from where the last call stopped and, when
# the range's last pairs are busy, fails the call instead of wrapping (v0.42.1), so it gets a
# range of its own below the kernel's ephemeral ports, where nothing else binds.
DIAGO_RTP=${DIAGO_RTP:-20000-30000}
PRESENCE=${PRESENCE:-1}
OUT=${OUT:-$(mktemp -d /tmp/sidecar-cps.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

for tool in sipp python3 /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "cps.sh: $tool not found" >&2; exit 2; }
done

# Open files: SIPp and the sidecar each need a few per call in flight.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "# open-files soft limit raised to $(ulimit -n)"

. "$here/lib.sh"
trap cleanup EXIT INT TERM

if [ -z "${SIDECAR:-}" ]; then
	SIDECAR=$OUT/sidecar
	(cd "$root" && go build -o "$SIDECAR" ./cmd/sidecar)
fi
# The presence server the sidecar's BLF PUBLISHes go to (the shipped subscriber template
# publishes dialog state; without [presence] server they would go to SIPp, which never answers).
if [ "$PRESENCE" = 1 ] && [[ " $TARGETS " == *" sidecar-"* ]]; then
	if [ -z "${RTPLOAD:-}" ]; then
		RTPLOAD=$OUT/rtpload
		(cd "$root" && go build -o "$RTPLOAD" ./bench/rtpload)
	fi
	start_presence "$RTPLOAD"
	echo "# presence server (rtpload presence) on 127.0.0.1:$presence_port"
fi
# The shipped templates and the bench's subscriber-noblf, for every sidecar target.
bench_templates "$OUT/templates"
case " $TARGETS " in *" diago-echo "*)
	if [ -z "${DIAGOECHO:-}" ]; then
		DIAGOECHO=$OUT/diagoecho
		if ! (cd "$here/diagoecho" && go build -o "$DIAGOECHO" .) >"$OUT/diagoecho-build.log" 2>&1; then
			echo "# diago-echo dropped: bench/diagoecho did not build (see $OUT/diagoecho-build.log)"
			TARGETS=$(echo " $TARGETS " | sed 's/ diago-echo / /')
		fi
	fi
	;;
esac

declare -A srv_pid srv_port
start_server() { # target
	local t=$1 sp cp mp rtp
	read -r sp cp mp rtp <<<"$(free_ports 4)"
	case $t in
	sidecar-*)
		cat >"$OUT/$t.ini" <<EOF
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
			printf '[presence]\nserver = sip:127.0.0.1:%s\n' "$presence_port" >>"$OUT/$t.ini"
		fi
		"$SIDECAR" serve -config "$OUT/$t.ini" >"$OUT/$t.log" 2>&1 &
		;;
	diago-echo)
		"$DIAGOECHO" -listen "127.0.0.1:$sp" -rtp-ports "$DIAGO_RTP" \
			>"$OUT/$t.log" 2>&1 &
		;;
	uas-486)
		sipp -sf "$here/sipp/uas_486.xml" -p "$sp" -cp "$cp" -mp "$mp" "${sipp_common[@]}" \
			-timeout 600s -trace_err -error_file "$OUT/$t.err" >"$OUT/$t.log" 2>&1 &
		;;
	uas-200)
		sipp -sn uas -p "$sp" -cp "$cp" -mp "$mp" "${sipp_common[@]}" \
			-timeout 600s -trace_err -error_file "$OUT/$t.err" >"$OUT/$t.log" 2>&1 &
		;;
	*) echo "cps.sh: unknown target $t" >&2; exit 2 ;;
	esac
	srv_pid[$t]=$!
	srv_port[$t]=$sp
	pids+=("$!")
	wait_udp "$sp" "$!"
}

# run_step TARGET RATE: one step; prints the result line; returns 1 when the step is not clean.
run_step() {
	local t=$1 r=$2 pid=${srv_pid[$1]} port=${srv_port[$1]} calls=$(($2 * STEP))
	local scen ext up cp mp c0 c1 d0 d1 stf tf rttd pb0 pb1
	case $t in
	*-486) scen=$here/sipp/uac_486.xml; ext='*486' ;;
	*) scen=$here/sipp/uac_answer.xml; ext='*43' ;;
	esac
	read -r up cp mp <<<"$(free_ports 3)"
	stf=$OUT/$t-$r.stat.csv tf=$OUT/$t-$r.time rttd=$OUT/$t-$r.rttdir
	rm -rf "$stf" "$rttd"
	mkdir "$rttd" # SIPp writes SCENARIO_PID_rtt.csv into its working directory
	c0=$(cpu_ticks "$pid") d0=$(udp_drops "$port") pb0=$(presence_count)
	# timeout(1): SIPp's own -timeout waits for calls in progress, forever if the server is gone.
	(cd "$rttd" && /usr/bin/time -f '%U %S %e' -o "$tf" timeout -k 5 "$((STEP + 30))" \
		sipp "127.0.0.1:$port" -sf "$scen" -s "$ext" -d "$HOLD_MS" -p "$up" -cp "$cp" -mp "$mp" \
		-key caller_template "$(caller_template "$t")" "${sipp_common[@]}" -r "$r" -rp 1000 -m "$calls" -l "$calls" -timeout "$((STEP + 20))s" \
		-trace_stat -stf "$stf" -fd 1 -trace_rtt -rtt_freq 1 -trace_err -error_file "$OUT/$t-$r.err" \
		>"$OUT/$t-$r.log" 2>&1) || true
	sleep 0.3 # the server's last ACKs and BYEs
	c1=$(cpu_ticks "$pid") d1=$(udp_drops "$port") pb1=$(presence_count)
	cat "$rttd"/*_rtt.csv >"$OUT/$t-$r.rtt.csv" 2>/dev/null || true
	rm -rf "$rttd"
	local ok fail retr rtt u s e p50 p99
	ok=$(stat_col "$stf" 'SuccessfulCall(C)') fail=$(stat_col "$stf" 'FailedCall(C)')
	retr=$(stat_col "$stf" 'Retransmissions(C)')
	rtt=$(stat_col "$stf" 'ResponseTime1(C)' | awk -F: 'NF == 4 {printf "%.1f", $1 * 3600000 + $2 * 60000 + $3 * 1000 + $4 / 1000; next} {print "NA"}')
	read -r u s e <<<"$(tail -1 "$tf")"
	read -r p50 p99 <<<"$(rtt_pct "$OUT/$t-$r.rtt.csv")"
	local pub=NA
	[[ $t == sidecar-* && -n "${presence_port:-}" ]] && pub=$((pb1 - pb0))
	# Clean (counts for the highest clean rate): every call succeeded, retransmissions below
	# RETRANS_PERMILLE per mille of the INVITEs, the UAC kept the rate, and INVITE->final p99 <=
	# P99_MS. why names what failed: failed, retrans, behind, p99.
	awk -v t="$t" -v r="$r" -v calls="$calls" -v ok="$ok" -v fail="$fail" -v retr="$retr" -v rtt="$rtt" \
		-v cpu="$((c1 - c0))" -v hz="$hz" -v hwm="$(hwm_kb "$pid")" -v drops="$((d1 - d0))" \
		-v u="$u" -v s="$s" -v e="$e" -v step="$STEP" -v pm="$RETRANS_PERMILLE" -v p99max="$P99_MS" \
		-v hold="$HOLD_MS" -v p50="$p50" -v p99="$p99" -v pub="$pub" 'BEGIN {
		okn = ok + 0; us = okn > 0 ? cpu * 1e6 / hz / okn : 0
		gen = e > 0 ? 100 * (u + s) / e : 0
		why = ""
		if (ok != calls || fail + 0 != 0) why = why ",failed"
		if (retr == "NA" || retr * 1000 >= pm * calls) why = why ",retrans"
		if (e > step + hold / 1000 + 2) why = why ",behind"
		if (p99 == "NA" || p99 + 0 > p99max) why = why ",p99"
		clean = (why == "")
		ppc = (pub == "NA" || okn == 0) ? "NA" : sprintf("%.2f", pub / okn)
		printf "%s\t%d\t%s\t%s\t%s\t%.1f\t%d\t%.1f\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t, r, ok, fail, retr,
			us, hwm / 1024, cpu * 100 / hz / e, drops, gen, e, rtt, p50, p99, ppc, clean ? "clean" : "UNCLEAN",
			clean ? "-" : substr(why, 2)
		exit !clean}' | tee -a "$OUT/results.tsv"
}

{
	machine_line
	echo "# rates=[$RATES] step=${STEP}s hold=${HOLD_MS}ms retrans<${RETRANS_PERMILLE}permille p99<=${P99_MS}ms presence=${presence_port:+127.0.0.1:}${presence_port:-none} sidecar=$SIDECAR"
} | tee "$OUT/results.tsv"
printf 'target\tcps\tok\tfailed\tretrans\tsrv_us/call\tsrv_peak_MiB\tsrv_cpu%%\tkdrops\tsipp_cpu%%\tsipp_s\tanswer_ms\tp50_ms\tp99_ms\tpub/call\tverdict\twhy\n' |
	tee -a "$OUT/results.tsv"

declare -A live
for t in $TARGETS; do start_server "$t"; live[$t]=1; done
for r in $RATES; do
	for t in $TARGETS; do
		[ "${live[$t]}" = 1 ] || continue
		run_step "$t" "$r" || live[$t]=0
	done
done

# Highest clean rate per target (clean includes p99 <= P99_MS), and CPU per call of each
# server over its reference at the highest rate both passed cleanly.
awk -F'\t' '/^#/ {next} $1 == "target" {for (i = 1; i <= NF; i++) c[$i] = i; next}
	$c["verdict"] == "clean" {best[$1] = $2; us[$1, $2] = $c["srv_us/call"]}
	END {
		for (t in best) printf "# highest clean rate %s: %d cps\n", t, best[t]
		n = split("sidecar-486 uas-486 sidecar-echo uas-200 sidecar-echo-blf uas-200 sidecar-echo-blf sidecar-echo diago-echo uas-200 sidecar-echo diago-echo", p, " ")
		for (i = 1; i < n; i += 2) {
			a = p[i]; b = p[i + 1]; r = (best[a] < best[b] ? best[a] : best[b])
			if (r > 0 && us[b, r] > 0)
				printf "# cpu per call %s / %s at %d cps: %.1f / %.1f us = %.2f\n", a, b, r,
					us[a, r], us[b, r], us[a, r] / us[b, r]
		}
		if (best["uas-200"] > 0)
			printf "# clean rate sidecar-echo / uas-200: %d / %d cps = %.2f\n", best["sidecar-echo"],
				best["uas-200"], best["sidecar-echo"] / best["uas-200"]
		if (best["uas-200"] > 0 && ("sidecar-echo-blf" in best))
			printf "# clean rate sidecar-echo-blf / uas-200: %d / %d cps = %.2f\n", best["sidecar-echo-blf"],
				best["uas-200"], best["sidecar-echo-blf"] / best["uas-200"]
		if (best["diago-echo"] > 0)
			printf "# clean rate sidecar-echo / diago-echo: %d / %d cps = %.2f\n", best["sidecar-echo"],
				best["diago-echo"], best["sidecar-echo"] / best["diago-echo"]
	}' "$OUT/results.tsv" | tee -a "$OUT/results.tsv"
echo "# output in $OUT"
