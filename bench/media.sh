#!/usr/bin/env bash
# bench/media.sh: the sidecar's echo media plane next to a diago echo server and a bare UDP
# reflector, same packet rate.
#
# For each N in N, places N concurrent echo calls (extension *43, X-Caller-Template as Kamailio
# sends it) on `sidecar serve` with bench/rtpload (raw SIP over loopback UDP, an RTP/RTCP port pair
# per call), sends each call 50 PCMU packets a second for DUR seconds and counts the echoes; then
# the same calls on bench/diagoecho (an echo server on github.com/emiago/diago, its own Go module:
# the peer); then sends the same packets to `rtpload reflect` (N sockets, read and write back: the
# floor for echo). Prints one line per target and N (see bench/rtpload/main.go for the keys) and
# the ratios of server CPU per echoed packet to the reflector's. rss_per_call_kb is the server's
# resident-memory growth from before the first INVITE to all N calls up, divided by N
# (meaningless for the reflector, whose sockets exist before it is measured); every server is
# started afresh for each N.
#
# Settings (environment): N (calls; one value or several, "100 200 500"; 200), DUR (10),
# TARGETS ("sidecar diago reflector"), PRESENCE (1: the sidecar's BLF PUBLISHes go to `rtpload
# presence`, as to Kamailio's presence module in a deployment; 0: to the caller), OUT (output
# directory; default a new directory under /tmp, kept), SIDECAR and DIAGOECHO (built binaries; default: built from this tree into OUT;
# when bench/diagoecho cannot be built, e.g. offline with an empty module cache, diago is
# dropped with a note). Loopback only, free ports, bounded (about 3*DUR+5 s per N), everything
# started is stopped on exit. Output: stdout and OUT/results.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
N=${N:-200}
DUR=${DUR:-10}
TARGETS=${TARGETS:-"sidecar diago reflector"}
PRESENCE=${PRESENCE:-1}
OUT=${OUT:-$(mktemp -d /tmp/sidecar-media.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
nmax=0
for n in $N; do [ "$n" -gt "$nmax" ] && nmax=$n; done
has() { case " $TARGETS " in *" $1 "*) return 0 ;; esac; return 1; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "# open-files soft limit raised to $(ulimit -n)"

. "$here/lib.sh"
trap cleanup EXIT INT TERM

if [ -z "${SIDECAR:-}" ]; then
	SIDECAR=$OUT/sidecar
	(cd "$root" && go build -o "$SIDECAR" ./cmd/sidecar)
fi
(cd "$root" && go build -o "$OUT/rtpload" ./bench/rtpload)
if has diago && [ -z "${DIAGOECHO:-}" ]; then
	DIAGOECHO=$OUT/diagoecho
	if ! (cd "$here/diagoecho" && go build -o "$DIAGOECHO" .) >"$OUT/diagoecho-build.log" 2>&1; then
		echo "# diago dropped: bench/diagoecho did not build (see $OUT/diagoecho-build.log)"
		TARGETS=$(echo " $TARGETS " | sed 's/ diago / /')
	fi
fi

# The presence server the sidecar's BLF PUBLISHes go to (as in cps.sh).
if [ "$PRESENCE" = 1 ] && has sidecar; then
	start_presence "$OUT/rtpload"
fi

# Two free loopback UDP ports for SIP, and two free blocks of 2*N+200 ports for RTP (sidecar,
# diago).
read -r sip dsip rtp <<<"$(python3 - "$nmax" <<'PY'
import random, socket, sys
need = 2 * int(sys.argv[1]) + 200
def free(p):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
while True:
    sip, dsip = random.randrange(30000, 39999), random.randrange(30000, 39999)
    if sip != dsip and free(sip) and free(dsip): break
while True:
    lo = random.randrange(40000, 60000 - 2 * need, 2)
    if all(free(p) for p in range(lo, lo + 2 * need, 37)): break
print(sip, dsip, lo)
PY
)"

drtp=$((rtp + 2 * nmax + 200))
cat >"$OUT/sidecar.ini" <<EOF
[general]
log-level = warn
[sip]
listen = udp:127.0.0.1:$sip
trusted = 127.0.0.0/8
identify = header
max-calls = 100000
drain-grace = 1s
[rtp]
ports = $rtp-$((drtp - 1))
address = 127.0.0.1
bind = 127.0.0.1
timeout = $((DUR + 30))s
EOF
if [ -n "${presence_port:-}" ]; then
	printf '[presence]\nserver = sip:127.0.0.1:%s\n' "$presence_port" >>"$OUT/sidecar.ini"
fi

# wait_udp PORT PID: until something listens on 127.0.0.1:PORT (max 5 s).
wait_udp() {
	local a; a=$(printf '0100007F:%04X' "$1")
	for _ in $(seq 100); do
		kill -0 "$2" 2>/dev/null || { echo "media.sh: server on port $1 exited at start" >&2; return 1; }
		awk -v a="$a" '$2 == a {f = 1} END {exit !f}' /proc/net/udp && return 0
		sleep 0.05
	done
	echo "media.sh: nothing listens on port $1 after 5 s" >&2
	return 1
}
# stop PID: SIGTERM, then up to 5 s for it to exit, then SIGKILL.
stop() {
	kill "$1" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

{
	echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC') nproc=$(nproc)$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*:/ cpu=/')"
	echo "# $(uptime | sed 's/.*load/load/') N=[$N] DUR=${DUR}s packets/s each way=50 per call presence=${presence_port:+127.0.0.1:}${presence_port:-none}"
} | tee "$OUT/results.txt"
# Every server is started afresh for every N, so its memory per call is not hidden by heap that
# an earlier N's calls left behind.
for n in $N; do
	if has sidecar; then
		"$SIDECAR" serve -config "$OUT/sidecar.ini" >>"$OUT/sidecar.log" 2>&1 &
		spid=$!
		pids+=("$spid")
		wait_udp "$sip" "$spid"
		s=$("$OUT/rtpload" load -sip "127.0.0.1:$sip" -pid "$spid" -n "$n" -d "${DUR}s")
		echo "sidecar   $s" | tee -a "$OUT/results.txt"
		stop "$spid"
	fi
	if has diago; then
		"$DIAGOECHO" -listen "127.0.0.1:$dsip" -rtp-ports "$drtp-$((drtp + 2 * nmax + 200))" \
			>>"$OUT/diagoecho.log" 2>&1 &
		dpid=$!
		pids+=("$dpid")
		wait_udp "$dsip" "$dpid"
		s=$("$OUT/rtpload" load -sip "127.0.0.1:$dsip" -pid "$dpid" -n "$n" -d "${DUR}s")
		echo "diago     $s" | tee -a "$OUT/results.txt"
		stop "$dpid"
	fi
	if has reflector; then
		rm -f "$OUT/reflector.ports"
		"$OUT/rtpload" reflect -n "$n" -for "$((DUR + 30))s" >"$OUT/reflector.ports" 2>"$OUT/reflector.log" &
		rpid=$!
		pids+=("$rpid")
		for _ in $(seq 100); do [ -s "$OUT/reflector.ports" ] && break; sleep 0.05; done
		r=$("$OUT/rtpload" load -ports "$OUT/reflector.ports" -pid "$rpid" -n "$n" -d "${DUR}s")
		echo "reflector $r" | tee -a "$OUT/results.txt"
		stop "$rpid"
	fi
done
# Per N: CPU per echoed packet of each echo server over the reflector's, and memory per call.
awk '!/^#/ {
		for (i = 2; i <= NF; i++) {split($i, kv, "="); f[kv[1]] = kv[2]}
		n = f["calls"]; us[n, $1] = f["srv_us_per_pkt"]; kb[n, $1] = f["rss_per_call_kb"]
		if (!(n in seen)) {seen[n] = 1; order[++m] = n}
	}
	END {
		for (j = 1; j <= m; j++) {
			n = order[j]; r = us[n, "reflector"]
			for (t = 1; t <= 2; t++) {
				s = (t == 1 ? "sidecar" : "diago")
				if (us[n, s] != "" && r > 0)
					printf "# N=%d cpu per echoed packet %s / reflector: %.2f / %.2f us = %.2f; %s memory per call %.1f KiB\n",
						n, s, us[n, s], r, us[n, s] / r, s, kb[n, s]
			}
			if (us[n, "sidecar"] != "" && us[n, "diago"] > 0)
				printf "# N=%d cpu per echoed packet sidecar / diago: %.2f / %.2f us = %.2f\n", n,
					us[n, "sidecar"], us[n, "diago"], us[n, "sidecar"] / us[n, "diago"]
		}
	}' "$OUT/results.txt" | tee -a "$OUT/results.txt"
echo "# output in $OUT"
