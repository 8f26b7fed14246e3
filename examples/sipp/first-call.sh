#!/usr/bin/env bash
# A first call (make first-call): starts the sidecar on the shipped templates and dialplan, calls
# the echo test *43 with SIPp (examples/sipp/echo.xml: 7 s of speech), prints SIPp's view of
# the call, the sidecar's log of it and how many RTP packets the sidecar got and sent back, then
# stops the sidecar. Exits non-zero unless the call was answered 200 and the audio came back.
#
# Needs bin/sidecar (make build) and SIPp (Debian package sip-tester). Ports, by environment:
#   SIP_PORT (5080) ADMIN_PORT (5081) RTP_PORTS (20000-20099) SIPP_PORT (5090) MEDIA_PORT (6000)
# and BIN (bin/sidecar). Everything listens on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIP_PORT=${SIP_PORT:-5080}
ADMIN_PORT=${ADMIN_PORT:-5081}
RTP_PORTS=${RTP_PORTS:-20000-20099}
SIPP_PORT=${SIPP_PORT:-5090}
MEDIA_PORT=${MEDIA_PORT:-6000}
BIN=${BIN:-bin/sidecar}

command -v sipp >/dev/null || { echo "first-call: sipp is not installed (Debian: apt-get install sip-tester, or scripts/test-deps.sh)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "first-call: $BIN not found: run make build" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# The built-in defaults plus the admin endpoint, whose /metrics counts RTP packets.
cat >"$tmp/sidecar.ini" <<EOF
[sip]
listen = udp:127.0.0.1:$SIP_PORT
[rtp]
ports = $RTP_PORTS
[admin]
listen = 127.0.0.1:$ADMIN_PORT
EOF

# metric NAME prints a /metrics value as an integer (bash's /dev/tcp: no curl needed).
metric() {
	local line
	exec 3<>"/dev/tcp/127.0.0.1/$ADMIN_PORT"
	printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	line=$(grep -E "^$1 " <&3 || true)
	exec 3<&-
	[ -n "$line" ] || { echo "first-call: /metrics has no $1" >&2; return 1; }
	awk '{printf "%d\n", $2}' <<<"$line"
}

echo "== sidecar: $BIN serve (shipped templates), SIP udp 127.0.0.1:$SIP_PORT, admin 127.0.0.1:$ADMIN_PORT"
"$BIN" serve -config "$tmp/sidecar.ini" >"$tmp/sidecar.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
	grep -q "sip service listening" "$tmp/sidecar.log" && break
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/sidecar.log" >&2; exit 1; }
	sleep 0.1
done
grep -q "sip service listening" "$tmp/sidecar.log" || { echo "first-call: the sidecar did not start" >&2; cat "$tmp/sidecar.log" >&2; exit 1; }
recv0=$(metric sidecar_media_packets_received_total)
sent0=$(metric sidecar_media_packets_sent_total)

echo "== SIPp: examples/sipp/echo.xml calls sip:*43@127.0.0.1:$SIP_PORT and plays 7 s of speech"
status=0
sipp -sf examples/sipp/echo.xml -i 127.0.0.1 -p "$SIPP_PORT" -mp "$MEDIA_PORT" -m 1 \
	-timeout 30s -timeout_error -nostdin "127.0.0.1:$SIP_PORT" >"$tmp/sipp.log" 2>&1 || status=$?
# SIPp's last screen: the message flow and the call counters.
awk '/Messages  Retrans/ { show = 1; n++; out[n] = "" } show && /^ *$/ { show = 0 } show { out[n] = out[n] $0 "\n" }
	END { printf "%s", out[n] }' "$tmp/sipp.log" | sed 's/ *$//'

grep -E "^  (Successful|Failed) call" "$tmp/sipp.log" | tail -n 2 | sed 's/ *$//'
if [ "$status" != 0 ]; then
	echo "first-call: SIPp failed (exit $status):" >&2
	cat "$tmp/sipp.log" >&2
	exit 1
fi

recv=$(($(metric sidecar_media_packets_received_total) - recv0))
sent=$(($(metric sidecar_media_packets_sent_total) - sent0))
echo "== sidecar log"
grep -E 'msg="call (answered|ended)"' "$tmp/sidecar.log" | sed -E 's/^time=[^ ]+ //'
echo "== echo: the sidecar received $recv RTP packets from SIPp and sent $sent back"
if [ "$recv" -lt 200 ] || [ "$sent" -lt $((recv * 9 / 10)) ]; then
	echo "first-call: the audio did not come back (SIPp plays 236 packets)" >&2
	exit 1
fi
echo "first call OK: 200 and echoed audio"
