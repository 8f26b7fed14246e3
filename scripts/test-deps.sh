#!/bin/sh
# Installs the Debian packages the test suite needs when any is missing, and keeps the packaged
# Kamailio and PostgreSQL services from running on their default ports (5060, 5432): the tests
# start their own on free ports and never use them. `make test` and `.ci/run` both call this.
#
# Usage: scripts/test-deps.sh [-n|--dry-run] [-c|--check]
#   -n, --dry-run  print what would be installed or disabled, change nothing (no root needed)
#   -c, --check    exit 1 and list what is missing, change nothing
#
# When everything is installed it only asks dpkg (well under a second) and needs no root.
# Otherwise it runs `apt-get update` and `apt-get install` as root: directly when run as root,
# else through sudo; without either it says what is missing and how to install it, and fails.
#
# TEST_DEPS_PACKAGES overrides the package list (a space-separated list), e.g. to see the
# "missing" branch with a package that is not installed:
#   TEST_DEPS_PACKAGES='kamailio cowsay' scripts/test-deps.sh --dry-run
#
# The clean-machine proof: `sudo make fresh-test` (scripts/fresh-test.sh) runs `bash .ci/run` in
# a fresh Debian 12 minbase root built with debootstrap; see docs/development.md.
set -eu

# What the tests and the build need, by package (a minbase Debian has none of them):
#   make                                 make test itself, when .ci/run calls this script first
#   git                                  the Makefile's version (git describe) and Go's VCS stamp
#   ca-certificates                      go mod download from the module proxy over https
#   curl                                 examples/sipp/first-call.sh reads the sidecar's /metrics
#   sox                                  app/: converts a prompt to u-law for SIPp's rtp_stream
#   kamailio, kamailio-extra-modules     e2e/: Kamailio 5.6 with examples/kamailio.cfg
#   kamailio-presence-modules            presence, presence_mwi, presence_dialoginfo (MWI, BLF)
#   kamailio-utils-modules               http_client (Kamailio asking the sidecar over HTTP)
#   sip-tester                           SIPp: e2e/, sipsvc/, app/, examples/sipp/
#   baresip                              a real phone (registers, plays and records audio)
#   postgresql                           a database started by the tests on a free port
#   chromium                             headless browser for the admin status page
# espeak-ng is not here: only sounds/generate.sh uses it, no test does.
PACKAGES=${TEST_DEPS_PACKAGES:-"make git ca-certificates curl sox kamailio kamailio-extra-modules kamailio-presence-modules kamailio-utils-modules sip-tester baresip postgresql chromium"}
# Packaged services that start on default ports after install.
SERVICES="kamailio postgresql"

dry_run=0
check=0
for arg in "$@"; do
	case $arg in
	-n | --dry-run) dry_run=1 ;;
	-c | --check) check=1 ;;
	-h | --help)
		sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "test-deps: unknown argument $arg (try --help)" >&2
		exit 2
		;;
	esac
done

say() { echo "test-deps: $*"; }

# as_root runs a command as root: directly, through sudo, or (dry run) only prints it.
as_root() {
	if [ "$dry_run" = 1 ]; then
		say "would run: $*"
	elif [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		return 126
	fi
}

# as_root_quiet is as_root with the command's own output dropped.
as_root_quiet() {
	if [ "$dry_run" = 1 ]; then
		as_root "$@"
	else
		as_root "$@" >/dev/null 2>&1
	fi
}

# packaged_running tells whether the packaged service runs without systemd: a live process in
# one of its pid files under /run/NAME (the init scripts' own status is no guide: kamailio's
# answers 0 when it is not even configured to start).
packaged_running() {
	for f in /run/"$1"/*.pid; do
		[ -r "$f" ] && kill -0 "$(head -n 1 "$f")" 2>/dev/null && return 0
	done
	return 1
}

can_be_root() { [ "$dry_run" = 1 ] || [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; }

if ! command -v dpkg-query >/dev/null 2>&1; then
	say "this is not a Debian machine (no dpkg-query): install these packages or their equivalents yourself: $PACKAGES" >&2
	exit 1
fi

# missing: the packages dpkg does not report as installed ("ii").
missing=
for pkg in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
	case $status in
	ii*) ;;
	*) missing="$missing $pkg" ;;
	esac
done
missing=${missing# }

if [ -n "$missing" ]; then
	if [ "$check" = 1 ]; then
		say "missing: $missing"
		exit 1
	fi
	if ! can_be_root; then
		say "missing Debian packages: $missing" >&2
		say "installing them needs root: run 'sudo $0' (or as root: apt-get update && apt-get install -y --no-install-recommends $missing), then make test again" >&2
		exit 1
	fi
	say "installing: $missing"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
elif [ "$check" = 1 ] || [ "$dry_run" = 1 ]; then
	say "all installed: $PACKAGES"
fi

[ "$check" = 1 ] && exit 0

# Keep the packaged services off. With systemd: disable and stop each one that is enabled or
# running. Without it (containers, sysvinit): stop one that runs and turn off its boot links.
for svc in $SERVICES; do
	if [ -d /run/systemd/system ]; then
		if systemctl is-enabled --quiet "$svc" 2>/dev/null || systemctl is-active --quiet "$svc" 2>/dev/null; then
			say "disabling the packaged $svc service (the tests start their own on free ports)"
			as_root_quiet systemctl disable --now "$svc" ||
				say "warning: could not disable $svc.service (needs root): it may hold its default port; the tests do not use it" >&2
		fi
	elif [ -x "/etc/init.d/$svc" ]; then
		if packaged_running "$svc"; then
			say "stopping the packaged $svc service (the tests start their own on free ports)"
			as_root_quiet "/etc/init.d/$svc" stop ||
				say "warning: could not stop $svc (needs root): it may hold its default port; the tests do not use it" >&2
		fi
		if ls /etc/rc[2345].d/S[0-9][0-9]"$svc" >/dev/null 2>&1; then
			as_root_quiet update-rc.d "$svc" disable ||
				say "warning: could not turn off $svc's boot links (needs root)" >&2
		fi
	fi
done
exit 0
