# sidecar: see README.md. Targets: build run test deps fresh-test unit e2e first-call screenshots docs bench load bench-load lint fmt fuzz reliability clean.
GO      ?= go
BIN     ?= bin/sidecar
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
STATICCHECK ?= v0.8.2
UNIT_PKGS = $(shell $(GO) list ./... | grep -v /e2e)

.PHONY: build run test deps fresh-test unit e2e first-call screenshots docs bench load bench-load lint fmt fuzz reliability clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/sidecar

# Runs the sidecar on its embedded defaults (loopback, shipped templates).
run: build
	./$(BIN) serve

# Everything, on a fresh Debian machine too: installs the packages the tests need when one is
# missing (scripts/test-deps.sh, as root or through sudo), then the unit tests, then the
# end-to-end suite with real Kamailio and SIPp. Each package is tested once: unit is every
# package but ./e2e, e2e is ./e2e. SIDECAR_E2E=1 for both, so a test that needs SIPp, Kamailio
# or another peer fails instead of skipping when it is missing.
test: deps
	$(MAKE) --no-print-directory unit SIDECAR_E2E=1
	$(MAKE) --no-print-directory e2e

# Installs the Debian packages the tests need when one is missing (see the script's header).
deps:
	scripts/test-deps.sh

# The clean-machine proof (root, debootstrap): `bash .ci/run` on this checkout's committed HEAD in
# a fresh Debian 12 minbase root; unmounts and deletes the root when done (docs/development.md).
fresh-test:
	scripts/fresh-test.sh

# Without SIDECAR_E2E=1 the unit tests that drive SIPp skip when it is missing. The patched
# sipgo copy (third_party/sipgo, its own module) runs the test of its one change.
unit:
	$(GO) test -count=1 $(UNIT_PKGS)
	cd third_party/sipgo && $(GO) test -count=1 ./sip ./sidecartest

# SIDECAR_E2E=1 makes the tests that need Kamailio or SIPp fail, not skip, when either is missing.
e2e:
	SIDECAR_E2E=1 $(GO) test -count=1 -timeout 20m ./e2e/...

# A first call: the sidecar on the shipped templates answers SIPp's echo test (*43) with 200 and
# sends the audio back (examples/sipp/first-call.sh; needs SIPp). Uses 127.0.0.1:5080 and 5081.
first-call: build
	examples/sipp/first-call.sh

# docs/img/status.png: the admin status page of a real sidecar serve, with a call in progress
# and a rendered request, taken by the headless-Chromium test of the page (needs chromium).
screenshots:
	SIDECAR_E2E=1 SIDECAR_SCREENSHOT=$(CURDIR)/docs/img/status.png $(GO) test -count=1 -run '^TestStatusPageInBrowser$$' ./cmd/sidecar

# Regenerates the sample outputs of README.md and docs/*.md from the real commands (the
# <!-- make docs: ... --> blocks): render and check in-process, docs/push.md's curl samples
# against the admin server in-process (fixed clock), the first call with SIPp.
# The same tests, without -update-docs, fail when a sample is stale (make unit and make test run them).
docs:
	$(GO) test -count=1 -run '^(TestDocsSamples|TestPushDocSamples)$$' ./cmd/sidecar -args -update-docs
	SIDECAR_E2E=1 $(GO) test -count=1 -run '^TestFirstCall$$' ./e2e -args -update-docs

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(UNIT_PKGS)

# Load tests on a real sidecar serve over loopback (SIPp): call-setup rate and echo media,
# each next to a reference measured in the same run (bench/README.md). About 2.5 minutes.
load:
	bench/cps.sh
	bench/media.sh

# The load ladder with its reference and peer in one run (bench/README.md): call setup (answered
# echo calls) for the sidecar without BLF (sidecar-echo, issue 14's path) and with it
# (sidecar-echo-blf, the shipped subscriber template), `sipp -sn uas` and the diago echo peer at
# each of RATES, then echo media for the sidecar, the diago peer and a bare reflector at each N,
# then a sustained step without BLF and one with it (SUSTAIN_RATE calls/s for SUSTAIN s, RSS every
# second, retained heap per call; SUSTAIN=0 skips both, SUSTAIN_BLF=0 the one with BLF). The raw tables, a PNG chart (bench/loadchart) and the markdown block (bench/report.py,
# report.md) go to LOAD_OUT (default: a new directory under /tmp); the repository is left as it
# was unless UPDATE=1, which writes the block between BENCHMARKS.md's markers and the chart to
# BENCHMARKS.png (LABEL="..." adds a bold line saying what the run was). RATES, STEP, HOLD_MS,
# N, DUR, SUSTAIN_RATE, SUSTAIN and SETTLE pass through from the environment or the command line.
bench-load:
	@set -e; out=$${LOAD_OUT:-$$(mktemp -d /tmp/sidecar-load.XXXXXX)}; mkdir -p "$$out"; \
	out=$$(cd "$$out" && pwd); \
	{ echo "commit=$$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)"; \
	  echo "go=$$($(GO) env GOVERSION)"; } >"$$out/env.txt"; \
	$(GO) build -o "$$out/sidecar" ./cmd/sidecar; \
	$(GO) build -o "$$out/sidecarprof" ./bench/sidecarprof; \
	$(GO) build -o "$$out/rtpload" ./bench/rtpload; \
	(cd bench/diagoecho && $(GO) build -o "$$out/diagoecho" .); \
	(cd bench/loadchart && $(GO) build -o "$$out/loadchart" .); \
	SIDECAR="$$out/sidecar" DIAGOECHO="$$out/diagoecho" RTPLOAD="$$out/rtpload" OUT="$$out/cps" \
	  RATES="$${RATES:-500 1000 2000 3000 4000 5000 6000}" TARGETS="sidecar-echo sidecar-echo-blf uas-200 diago-echo" bench/cps.sh; \
	SIDECAR="$$out/sidecar" DIAGOECHO="$$out/diagoecho" OUT="$$out/media" \
	  N="$${N:-100 200 500}" TARGETS="sidecar diago reflector" bench/media.sh; \
	chart="-cps $$out/cps/results.tsv -media $$out/media/results.txt"; \
	if [ "$${SUSTAIN:-60}" != 0 ]; then \
	  SIDECARPROF="$$out/sidecarprof" RTPLOAD="$$out/rtpload" OUT="$$out/sustain" BLF=0 \
	    SUSTAIN_RATE="$${SUSTAIN_RATE:-3000}" SUSTAIN="$${SUSTAIN:-60}" bench/sustain.sh; \
	  chart="$$chart -sustain $$out/sustain/rss.tsv"; \
	  if [ "$${SUSTAIN_BLF:-1}" = 1 ]; then \
	    SIDECARPROF="$$out/sidecarprof" RTPLOAD="$$out/rtpload" OUT="$$out/sustain-blf" BLF=1 \
	      SUSTAIN_RATE="$${SUSTAIN_RATE:-3000}" SUSTAIN="$${SUSTAIN:-60}" bench/sustain.sh; fi; fi; \
	"$$out/loadchart" $$chart -o "$$out/load.png"; \
	bench/report.py "$$out" --label "$${LABEL:-}" >"$$out/report.md"; \
	echo "# bench-load: tables $$out/{cps/results.tsv,media/results.txt,sustain/results.txt,sustain-blf/results.txt}, chart $$out/load.png, block $$out/report.md"; \
	if [ "$${UPDATE:-0}" = 1 ]; then \
	  bench/report.py "$$out" --label "$${LABEL:-}" --write BENCHMARKS.md; cp "$$out/load.png" BENCHMARKS.png; \
	  echo "# bench-load: BENCHMARKS.md (between its markers) and BENCHMARKS.png updated"; fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum not tidy: run go mod tidy"; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK) ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# Short fuzzing pass over every fuzz target (FUZZTIME per target).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $(UNIT_PKGS); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg || exit 1; \
	  done; done

# RELIABILITY.md's table, from the tests that throw faults and hostile input at the sidecar:
# each logs a "RELIABILITY:" row (internal/reliability) that the collector writes between the
# file's markers. Loopback only, bounded by -timeout, stops by itself (5-7 minutes; one
# package at a time, -p 1, so the floods never load the machine under another test). Run
# with SIDECAR_E2E=1, the Kamailio row needs kamailio, kamcmd and sipp (make deps installs
# them). SIDECAR_RELIABILITY=1 is for what only this target runs: TestOverloadQueueDelayFlood
# (72-88 s; two CPUs and a writable cgroup cpu controller, v1 or a delegated v2
# group, for its CPU quota, else it skips; RELIABILITY.md says why make unit does not run it). A failing test leaves the file as it was.
RELIABILITY_PKGS = ./sipsvc ./rtp ./voicemail/fsstore ./cmd/sidecar ./e2e
RELIABILITY_RUN  = ^(TestTorture|TestOverloadFlood|TestOverloadQueueDelayFlood|TestOverloadTCPBeforeTransaction|TestFloodOptions|TestFloodGarbage|TestFloodUntrusted|TestFloodRTPAtCall|TestDblreqNoDialOut|TestTCPStallAndReset|TestOversize|TestPortExhaustion|TestKill9DuringDeposits|TestDiskFullTmpfs|TestDiskFullInjected|TestServeFDExhaustion|TestKamailioVanishesMidCall|TestVoicemailKill9|TestServeRTPPortExhaustion|TestServeVoicemailDiskFull|TestReloadPushStorm)$$
reliability:
	@set -e; out=$$(mktemp /tmp/sidecar-reliability.XXXXXX); trap 'rm -f "$$out"' EXIT; \
	if ! SIDECAR_E2E=1 SIDECAR_RELIABILITY=1 $(GO) test -p 1 -count=1 -v -timeout 15m -run '$(RELIABILITY_RUN)' $(RELIABILITY_PKGS) >"$$out" 2>&1; then \
	  grep -E '^(\s*--- FAIL|FAIL|panic)' "$$out"; echo "reliability: a test failed; RELIABILITY.md unchanged"; exit 1; fi; \
	$(GO) run ./internal/reliability/cmd/reliability -file RELIABILITY.md <"$$out"

clean:
	rm -rf bin
