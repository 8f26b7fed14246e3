package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const cpsResults = `# 2026-12-06 04:04:49 UTC nproc=2 cpu= AMD EPYC
# load average: 13.21, 8.12, 3.82 cpu-pressure=[some avg10=98.52] rates=[500 1000] step=5s
target	cps	ok	failed	retrans	srv_us/call	srv_peak_MiB	srv_cpu%	kdrops	sipp_cpu%	sipp_s	answer_ms	p50_ms	p99_ms	verdict
sidecar-echo	500	2500	0	0	908.0	141	32.9	0	7	5.10	1.0	0	8	clean
uas-200	500	2500	0	0	152.0	11	7.4	0	7	5.14	0.0	0	4	clean
sidecar-echo	1000	5000	0	900	700.0	141	70.0	0	7	6.90	800.0	500	2004	UNCLEAN
uas-200	1000	5000	0	0	104.0	18	10.1	0	10	5.15	1.0	0	NA	clean
# highest clean rate sidecar-echo: 500 cps (with p99 <= 50 ms: 500 cps)
`

const mediaResults = `# 2026-12-06 04:06:26 UTC nproc=2 cpu= AMD EPYC
# load average: 17.93, 11.50, 5.50 N=[100 200] DUR=10s packets/s each way=50 per call
sidecar   calls=100 silent_calls=0 sent=50000 echoed=50000 lost_pct=0.00 srv_cpu_s=1.00 srv_us_per_pkt=20.00 rss_per_call_kb=73.6
reflector calls=100 silent_calls=0 sent=50000 echoed=50000 lost_pct=0.00 srv_cpu_s=0.70 srv_us_per_pkt=14.00 rss_per_call_kb=0.0
diago     calls=200 silent_calls=1 sent=100000 echoed=99500 lost_pct=0.50 srv_cpu_s=2.50 srv_us_per_pkt=25.13 rss_per_call_kb=6.0
# N=100 cpu per echoed packet sidecar / reflector: 20.00 / 14.00 us = 1.43
`

func write(t *testing.T, name, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReadCPSTakesRowsByHeaderNames(t *testing.T) {
	p99, cpu, note, err := readCPS(write(t, "results.tsv", cpsResults))
	if err != nil {
		t.Fatal(err)
	}
	want := []point{{500, 908, true}, {1000, 700, false}}
	if got := cpu["sidecar-echo"]; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("cpu[sidecar-echo] = %v, want %v", got, want)
	}
	if got := p99["sidecar-echo"]; len(got) != 2 || got[1] != (point{1000, 2004, false}) {
		t.Errorf("p99[sidecar-echo] = %v, want 2 points, the second {1000 2004 false}", got)
	}
	if got := p99["uas-200"]; len(got) != 1 {
		t.Errorf("p99[uas-200] = %v, want the NA step left out", got)
	}
	if note != "(2026-12-06) load avg 13.21" {
		t.Errorf("note = %q", note)
	}
}

func TestReadCPSRejectsARowWithMissingColumns(t *testing.T) {
	_, _, _, err := readCPS(write(t, "results.tsv", strings.Replace(cpsResults, "\t0\t8\tclean", "\tclean", 1)))
	if err == nil || !strings.Contains(err.Error(), "results.tsv:4:") {
		t.Fatalf("err = %v, want one naming results.tsv:4", err)
	}
}

func TestReadMediaComputesLoadFromDuration(t *testing.T) {
	load, perPkt, _, err := readMedia(write(t, "results.txt", mediaResults))
	if err != nil {
		t.Fatal(err)
	}
	if got := load["sidecar"]; len(got) != 1 || got[0] != (point{100, 10, true}) {
		t.Errorf("load[sidecar] = %v, want [{100 10 true}] (1 s of CPU over 10 s)", got)
	}
	if got := perPkt["diago"]; len(got) != 1 || got[0] != (point{200, 25.13, false}) {
		t.Errorf("perPkt[diago] = %v, want [{200 25.13 false}] (loss and a silent call)", got)
	}
}

const sustainSamples = "200\t20480\t10\n1200\t30720\t60\n2200\t31744\t140\n"

func TestReadSustainGivesMiBAndCPUPerInterval(t *testing.T) {
	rss, cpu, err := readSustain(write(t, "rss.tsv", sustainSamples))
	if err != nil {
		t.Fatal(err)
	}
	if got := rss["sidecar"]; len(got) != 3 || got[0] != (point{0.2, 20, true}) || got[2] != (point{2.2, 31, true}) {
		t.Errorf("rss = %v, want 3 points from {0.2 20} to {2.2 31}", got)
	}
	// 50 ticks of 10 ms over 1 s = 50% of a core, then 80 ticks = 80%.
	if got := cpu["sidecar"]; len(got) != 2 || got[0] != (point{1.2, 50, true}) || got[1] != (point{2.2, 80, true}) {
		t.Errorf("cpu = %v, want [{1.2 50 true} {2.2 80 true}]", got)
	}
	if _, _, err := readSustain(write(t, "bad.tsv", "1\t2\n")); err == nil || !strings.Contains(err.Error(), "bad.tsv:1:") {
		t.Errorf("err = %v, want one naming bad.tsv:1", err)
	}
}

func TestRunWritesAPNG(t *testing.T) {
	out := filepath.Join(t.TempDir(), "load.png")
	if err := run(write(t, "results.tsv", cpsResults), write(t, "results.txt", mediaResults),
		write(t, "rss.tsv", sustainSamples), out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s does not start with the PNG signature", out)
	}
}
