# bench/lib.sh: helpers shared by bench/cps.sh and bench/sustain.sh (sourced, not run).
# The sourcing script sets `here` (bench/) and OUT, and keeps every PID it starts in `pids`
# (cleanup, installed by the script's trap, stops them: SIGTERM, 5 s, SIGKILL).
me=$(basename "$0")
hz=$(getconf CLK_TCK)
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
}

# free_ports N: N distinct loopback ports (even, each with the next three free too, so every one
# can also serve as a SIPp media port base), bound and released to check they are free.
free_ports() {
	python3 - "$1" <<'PY'
import random, socket, sys
n, got = int(sys.argv[1]), []
while len(got) < n:
    p = random.randrange(30000, 39990, 2)
    if any(abs(p - q) < 4 for q in got):
        continue
    socks = []
    try:
        for q in range(p, p + 4):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind(("127.0.0.1", q))
        got.append(p)
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
print(" ".join(map(str, got)))
PY
}

# cpu_ticks PID: utime+stime of the whole process (all threads), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# hwm_kb PID: peak resident set size in KiB.
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# rss_kb PID: resident set size in KiB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# udp_drops PORT: receive-buffer drops counted at the 127.0.0.1:PORT UDP socket.
udp_drops() {
	awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a {d += $NF} END {print d + 0}' /proc/net/udp
}
# wait_udp PORT PID: until something listens on 127.0.0.1:PORT (max 5 s).
wait_udp() {
	local a; a=$(printf '0100007F:%04X' "$1")
	for _ in $(seq 100); do
		kill -0 "$2" 2>/dev/null || { echo "$me: server on port $1 exited at start" >&2; return 1; }
		awk -v a="$a" '$2 == a {f = 1} END {exit !f}' /proc/net/udp && return 0
		sleep 0.05
	done
	echo "$me: nothing listens on port $1 after 5 s" >&2
	return 1
}

# Common SIPp settings for high rates: bigger socket buffers, more messages and calls per loop,
# a watchdog that tolerates a loaded shared machine, control socket on loopback.
sipp_common=(-i 127.0.0.1 -ci 127.0.0.1 -nostdin -buff_size 4194304 -max_recv_loops 10000
	-max_sched_loops 10000 -watchdog_minor_threshold 2000 -watchdog_major_threshold 10000
	-watchdog_major_maxtriggers 100)

# stat_col FILE NAME: the last value of column NAME in a SIPp -trace_stat CSV.
stat_col() {
	awk -F';' -v n="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == n) c = i; next}
		c && NF >= c {v = $c} END {print (v == "" ? "NA" : v)}' "$1"
}

# rtt_pct FILE: "p50 p99" of the response times (ms) in a SIPp -trace_rtt CSV, NA NA when empty.
rtt_pct() {
	awk -F';' 'NR > 1 && $3 == 1 {print $2}' "$1" 2>/dev/null | sort -n | awk '{v[NR] = $1}
		function q(p,  i) {i = int(p * NR + 0.999999); if (i < 1) i = 1; return v[i]}
		END {if (NR) print q(0.5), q(0.99); else print "NA NA"}'
}

# start_presence RTPLOAD: starts `rtpload presence` (the presence server the sidecar's BLF
# PUBLISHes go to, as Kamailio's presence module in a deployment), counters in
# OUT/presence.stats; sets presence_port and presence_pid.
start_presence() {
	rm -f "$OUT/presence.port" "$OUT/presence.stats"
	"$1" presence -listen "127.0.0.1:$(free_ports 1)" -stats "$OUT/presence.stats" -for 2h \
		>"$OUT/presence.port" 2>"$OUT/presence.log" &
	presence_pid=$!
	pids+=("$presence_pid")
	for _ in $(seq 100); do [ -s "$OUT/presence.port" ] && break; sleep 0.05; done
	presence_port=$(head -1 "$OUT/presence.port")
	[ -n "$presence_port" ] || { echo "$me: rtpload presence did not start (see $OUT/presence.log)" >&2; return 1; }
}

# presence_count: PUBLISHes the presence server answered so far (new + modify).
presence_count() {
	sed -n 's/^publish=\([0-9]*\) modify=\([0-9]*\).*/\1 \2/p' "$OUT/presence.stats" 2>/dev/null |
		awk '{print $1 + $2} END {if (!NR) print 0}'
}

# bench_templates DIR: the shipped templates (templates/*.conf) and the bench's own
# (bench/templates/*.conf: subscriber-noblf, the shipped subscriber with BLF off) into DIR, for
# the sidecar's [general] templates. Sets templates_dir.
bench_templates() {
	mkdir -p "$1"
	cp "$here/../templates/"*.conf "$here/templates/"*.conf "$1/"
	templates_dir=$1
}

# caller_template TARGET: the X-Caller-Template the UAC sends to a sidecar target: the shipped
# "subscriber" (BLF on) for *-blf targets, else the bench's "subscriber-noblf" (issue 14's path).
caller_template() {
	case $1 in *-blf) echo subscriber ;; *) echo subscriber-noblf ;; esac
}

# machine_line: date, nproc, CPU model; load average and CPU pressure now.
machine_line() {
	echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC') nproc=$(nproc)$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*:/ cpu=/')"
	echo "# $(uptime | sed 's/.*load/load/') cpu-pressure=[$(head -1 /proc/pressure/cpu 2>/dev/null)]"
}
