#!/usr/bin/env bash
# bench/media.sh: the sidecar's echo media plane next to a bare UDP reflector, same packet rate.
#
# Places N concurrent echo calls (extension *43, X-Caller-Template as Kamailio sends it) on
# `sidecar serve` with bench/rtpload (raw SIP over loopback UDP, one RTP socket per call), sends
# each call 50 PCMU packets a second for DUR seconds and counts the echoes; then sends the same
# packets to `rtpload reflect` (N sockets, read and write back: the floor for echo). Prints one
# line per target (see bench/rtpload/main.go for the keys) and the ratio of server CPU per
# echoed packet, sidecar / reflector. rss_per_call_kb is the sidecar's resident-memory growth
# from before the first INVITE to all N calls up, divided by N (meaningless for the reflector,
# whose sockets exist before it is measured).
#
# Settings (environment): N (200), DUR (10), OUT (output directory; default a new directory
# under /tmp, kept), SIDECAR (a built binary; default: built from this tree into OUT).
# Loopback only, free ports, bounded (about 2*DUR+5 s), everything started is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
N=${N:-200}
DUR=${DUR:-10}
OUT=${OUT:-$(mktemp -d /tmp/sidecar-media.XXXXXX)}
mkdir -p "$OUT"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "# open-files soft limit raised to $(ulimit -n)"

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT INT TERM

if [ -z "${SIDECAR:-}" ]; then
	SIDECAR=$OUT/sidecar
	(cd "$root" && go build -o "$SIDECAR" ./cmd/sidecar)
fi
(cd "$root" && go build -o "$OUT/rtpload" ./bench/rtpload)

# A free loopback UDP port for SIP, and a free block of 2*N+200 ports for the sidecar's RTP.
read -r sip rtp <<<"$(python3 - "$N" <<'PY'
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
    sip = random.randrange(30000, 39999)
    if free(sip): break
while True:
    lo = random.randrange(40000, 60000 - need, 2)
    if all(free(p) for p in range(lo, lo + need, 37)): break
print(sip, lo)
PY
)"

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
ports = $rtp-$((rtp + 2 * N + 199))
address = 127.0.0.1
bind = 127.0.0.1
timeout = $((DUR + 30))s
EOF
"$SIDECAR" serve -config "$OUT/sidecar.ini" >"$OUT/sidecar.log" 2>&1 &
spid=$!
pids+=("$spid")
"$OUT/rtpload" reflect -n "$N" -for "$((3 * DUR + 30))s" >"$OUT/reflector.ports" 2>"$OUT/reflector.log" &
rpid=$!
pids+=("$rpid")
for _ in $(seq 100); do
	[ -s "$OUT/reflector.ports" ] && awk -v a="$(printf '0100007F:%04X' "$sip")" \
		'$2 == a {f = 1} END {exit !f}' /proc/net/udp && break
	sleep 0.05
done

{
	echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC') nproc=$(nproc)$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*:/ cpu=/')"
	echo "# $(uptime | sed 's/.*load/load/') N=$N DUR=${DUR}s packets/s each way=$((N * 50))"
} | tee "$OUT/results.txt"
s=$("$OUT/rtpload" load -sip "127.0.0.1:$sip" -pid "$spid" -n "$N" -d "${DUR}s")
echo "sidecar   $s" | tee -a "$OUT/results.txt"
r=$("$OUT/rtpload" load -ports "$OUT/reflector.ports" -pid "$rpid" -n "$N" -d "${DUR}s")
echo "reflector $r" | tee -a "$OUT/results.txt"
awk '{for (i = 2; i <= NF; i++) {split($i, kv, "="); v[$1, kv[1]] = kv[2]}}
	END {if (v["reflector", "srv_us_per_pkt"] > 0)
		printf "# cpu per echoed packet sidecar / reflector: %.2f / %.2f us = %.2f; sidecar memory per call %.1f KiB\n",
			v["sidecar", "srv_us_per_pkt"], v["reflector", "srv_us_per_pkt"],
			v["sidecar", "srv_us_per_pkt"] / v["reflector", "srv_us_per_pkt"], v["sidecar", "rss_per_call_kb"]}' \
	"$OUT/results.txt" | tee -a "$OUT/results.txt"
echo "# output in $OUT"
