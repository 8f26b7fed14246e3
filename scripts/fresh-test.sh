#!/usr/bin/env bash
# The clean-machine proof (make fresh-test): builds a fresh Debian 12 (bookworm) root with
# debootstrap, clones this repository's committed HEAD into it and runs, as root inside chroot,
# exactly `bash .ci/run` with CI=true: scripts/test-deps.sh installs every package the tests
# need, then `make test` runs the unit and end-to-end suites. Prints the wall time, unmounts what
# it mounted, stops whatever the run left behind in the root, and deletes the root.
#
# Needs root on a Debian machine with debootstrap (apt-get install debootstrap) and Go (copied
# into the root, since Go 1.26 is not a Debian 12 package). Network: the Debian mirror and the Go
# module proxy. About 1 GB of disk under FRESH_ROOT.
#
# Settings, by environment:
#   FRESH_ROOT    the root to build and delete (/tmp/sidecar-fresh)
#   FRESH_BASE    a pristine debootstrap to copy, made once when absent
#                 (/var/cache/sidecar-fresh/bookworm-minbase); delete it to start from the mirror
#   FRESH_MIRROR  the Debian mirror (the first http(s) URI of /etc/apt/sources.list*)
#   FRESH_REPO    the repository to clone (this checkout; its committed HEAD, not the work tree)
#   FRESH_LOG     the run's full output (FRESH_ROOT.log)
#   FRESH_KEEP=1  keep the root afterwards (still unmounted), to look around in it
#
# The root is a minbase debootstrap: no make, git, curl, ca-certificates or locales. It is
# given what a CI image has besides Debian: Go in /usr/local/go with this machine's GOPROXY,
# GOFLAGS, GOSUMDB, GONOSUMDB and GOTOOLCHAIN, /etc/resolv.conf, the site's certificate
# authorities in /usr/local/share/ca-certificates, and /usr/sbin/policy-rc.d
# answering 101 as in Debian's container images, so that package installs do not start
# Kamailio and PostgreSQL on the host's network (a chroot shares it).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "fresh-test: $*"; }
die() {
	say "$*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, mount, chroot): sudo $0"
command -v debootstrap >/dev/null || die "debootstrap is not installed: apt-get install debootstrap"
GO=$(command -v go) || die "go is not on PATH"
GOROOT=$("$GO" env GOROOT)

mirror_from_sources() {
	# deb822 "URIs:" lines first, then one-line "deb URL suite" entries; Debian's main archive.
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { print $2 } /^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' |
		grep -E '/debian/?$' | head -n 1 || true
}

ROOT=${FRESH_ROOT:-/tmp/sidecar-fresh}
BASE=${FRESH_BASE:-/var/cache/sidecar-fresh/bookworm-minbase}
MIRROR=${FRESH_MIRROR:-$(mirror_from_sources)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
REPO=${FRESH_REPO:-$(pwd)}
LOG=${FRESH_LOG:-$ROOT.log}
ROOT=$(realpath -m "$ROOT")

mounted=()
cleanup() {
	local rc=$? pid dir i
	# Processes whose root is the fresh root were started by this run: stop them by pid.
	for dir in /proc/[0-9]*; do
		pid=${dir#/proc/}
		[ "$(readlink "$dir/root" 2>/dev/null)" = "$ROOT" ] && kill -9 "$pid" 2>/dev/null && say "stopped leftover pid $pid"
	done
	# Mounts made inside the root by the run (a test's tmpfs), deepest first, then ours.
	for dir in $(findmnt -rn -o TARGET | grep -F "$ROOT/" | sort -r); do
		umount "$dir" 2>/dev/null || umount -l "$dir" || say "could not unmount $dir" >&2
	done
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		findmnt -rn "${mounted[i]}" >/dev/null && { umount "${mounted[i]}" || umount -l "${mounted[i]}"; }
	done
	if findmnt -rn -o TARGET | grep -qF "$ROOT"; then
		say "mounts left under $ROOT, not deleting it:" >&2
		findmnt -rn -o TARGET | grep -F "$ROOT" >&2
	elif [ "${FRESH_KEEP:-}" = 1 ]; then
		say "kept $ROOT (unmounted)"
	else
		rm -rf "$ROOT"
	fi
	exit "$rc"
}

if [ ! -x "$BASE/bin/bash" ]; then
	say "debootstrap bookworm (minbase) from $MIRROR into $BASE"
	rm -rf "$BASE.tmp"
	mkdir -p "$(dirname "$BASE")"
	debootstrap --variant=minbase bookworm "$BASE.tmp" "$MIRROR"
	mv "$BASE.tmp" "$BASE"
fi

findmnt -rn -o TARGET | grep -qF "$ROOT" && die "$ROOT has mounts (an earlier run still going?): umount them first"
rm -rf "$ROOT"
trap cleanup EXIT
trap 'exit 130' INT TERM
say "copying the pristine root $BASE to $ROOT"
cp -a "$BASE" "$ROOT"

mnt() { # mnt TARGET ARGS...: mount, keep it private, remember it for cleanup
	local target=$1
	shift
	mkdir -p "$target"
	mount "$@" "$target"
	mounted+=("$target")
	mount --make-private "$target"
}
mnt "$ROOT/proc" -t proc proc
mnt "$ROOT/sys" -t sysfs sysfs
mnt "$ROOT/dev" --bind /dev
mnt "$ROOT/dev/pts" --bind /dev/pts
mnt "$ROOT/dev/shm" -t tmpfs -o mode=1777 tmpfs

cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# The site's own certificate authorities (a TLS-inspecting egress proxy's, say): installing
# ca-certificates in the root adds them to its bundle, as on any machine of this site.
mkdir -p "$ROOT/usr/local/share/ca-certificates"
cp -a /usr/local/share/ca-certificates/. "$ROOT/usr/local/share/ca-certificates/" 2>/dev/null || true
printf '#!/bin/sh\n# as in Debian container images: package installs start no service\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
mkdir -p "$ROOT/usr/local"
cp -a "$GOROOT" "$ROOT/usr/local/go"

git clone --quiet --no-hardlinks "$REPO" "$ROOT/root/sidecar"
commit=$(git -C "$ROOT/root/sidecar" log -1 --format='%h %s')
say "cloned $REPO at $commit"

env_args=(HOME=/root CI=true TERM=dumb
	PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
for v in GOPROXY GOFLAGS GOSUMDB GONOSUMDB GOTOOLCHAIN; do
	env_args+=("$v=$("$GO" env "$v")")
done

say "running bash .ci/run in the fresh root (log: $LOG)"
start=$(date +%s)
set +e
chroot "$ROOT" /usr/bin/env -i "${env_args[@]}" /bin/bash -c 'cd /root/sidecar && bash .ci/run' 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
secs=$(($(date +%s) - start))
if [ "$rc" = 0 ]; then
	say "PASS: bash .ci/run on a fresh bookworm root, commit $commit, in $((secs / 60))m$((secs % 60))s"
else
	say "FAIL (exit $rc): bash .ci/run on a fresh bookworm root, commit $commit, after $((secs / 60))m$((secs % 60))s; log: $LOG" >&2
fi
exit "$rc"
