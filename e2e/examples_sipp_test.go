package e2e

import (
	"bufio"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/docblock"
)

// The newcomer's scenarios in examples/sipp/ run here against a real `sidecar serve` on the
// shipped templates and dialplan, with the settings a newcomer has (the built-in defaults, on
// free ports), so that they cannot rot.

// exampleSidecar is a sidecar on the built-in defaults but for its ports: SIP on udp, an RTP
// range and the admin endpoint, all on 127.0.0.1.
type exampleSidecar struct {
	*proc
	sip   string // ip:port
	admin string // ip:port
}

// startExampleSidecar runs `sidecar serve` with the embedded templates and the default
// [sip] trust and identify settings, and waits until its admin endpoint answers.
func startExampleSidecar(t *testing.T, dir string) *exampleSidecar {
	t.Helper()
	return startExampleSidecarWith(t, dir, 100, "")
}

// startExampleSidecarWith is startExampleSidecar with rtpPorts RTP ports and more settings
// appended to its sidecar.ini (a [cdr] section, ...).
func startExampleSidecarWith(t *testing.T, dir string, rtpPorts int, extra string) *exampleSidecar {
	t.Helper()
	port, admin, rtp := freePort(t, kamIP), freePort(t, kamIP), freePortPair(t, kamIP)
	if rtp > 65500-rtpPorts {
		rtp = 40000
	}
	ini := fmt.Sprintf("[general]\nlog-level = debug\n[sip]\nlisten = udp:%[1]s:%[2]d\n[rtp]\nports = %[3]d-%[4]d\n[admin]\nlisten = %[1]s:%[5]d\n[voicemail]\ndir = %[6]s\n",
		kamIP, port, rtp, rtp+rtpPorts-1, admin, filepath.Join(dir, "voicemail")) + extra
	path := filepath.Join(dir, "sidecar.ini")
	mustWrite(t, path, ini)
	sc := &exampleSidecar{proc: startProc(t, dir, "sidecar", sidecarBinary(t), "serve", "-config", path),
		sip: fmt.Sprintf("%s:%d", kamIP, port), admin: fmt.Sprintf("%s:%d", kamIP, admin)}
	err := eventually(10*time.Second, func() error {
		if !sc.running() {
			return fmt.Errorf("sidecar exited: %s", tail(sc.log, 20))
		}
		_, err := sc.metric("sidecar_media_packets_sent_total")
		return err
	})
	if err != nil {
		t.Fatalf("sidecar not ready: %v", err)
	}
	return sc
}

// metric reads one unlabelled sample from the sidecar's /metrics.
func (s *exampleSidecar) metric(name string) (float64, error) {
	resp, err := http.Get("http://" + s.admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("read /metrics: no sample %s", name)
}

// exampleScenario names a file of examples/sipp for the suite's sipp runner, which reads
// scenarios relative to e2e/testdata.
func exampleScenario(name string) string {
	return filepath.Join("..", "..", "examples", "sipp", name)
}

func TestExampleScenarios(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	sc := startExampleSidecar(t, dir)

	t.Run("busy answers 486", func(t *testing.T) {
		c := &sipp{name: "busy", scenario: exampleScenario("busy.xml"), ip: kamIP, calls: 1}
		if err := c.run(t, dir, sc.sip); err != nil {
			t.Fatalf("examples/sipp/busy.xml did not get 486: %v", err)
		}
	})

	t.Run("without a template header 403", func(t *testing.T) {
		// What the README's first SIPp line used to do: the default identifier chain is
		// "header", so a call without X-Caller-Template matches no template: 403.
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "sipp", "busy.xml"))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(b), "X-Caller-Template: caller-endpoint\n", "", 1)
		text = strings.Replace(text, `response="486"`, `response="403"`, 1)
		if text == string(b) {
			t.Fatal("busy.xml no longer has the lines this test edits")
		}
		mustWrite(t, filepath.Join(dir, "no-header.xml"), text)
		rel, err := filepath.Rel(filepath.Join(repoRoot(t), "e2e", "testdata"), filepath.Join(dir, "no-header.xml"))
		if err != nil {
			t.Fatal(err)
		}
		c := &sipp{name: "no-header", scenario: rel, ip: kamIP, calls: 1}
		if err := c.run(t, dir, sc.sip); err != nil {
			t.Fatalf("a call without X-Caller-Template did not get 403: %v", err)
		}
	})

	t.Run("echo sends the audio back", func(t *testing.T) {
		recv0, err := sc.metric("sidecar_media_packets_received_total")
		if err != nil {
			t.Fatal(err)
		}
		sent0, err := sc.metric("sidecar_media_packets_sent_total")
		if err != nil {
			t.Fatal(err)
		}
		c := &sipp{name: "echo", scenario: exampleScenario("echo.xml"), ip: kamIP, calls: 1}
		if err := c.run(t, dir, sc.sip); err != nil {
			t.Fatalf("examples/sipp/echo.xml: %v", err)
		}
		// The media session's counters are added to the totals when it closes, at the BYE
		// SIPp has seen answered.
		var recv, sent float64
		err = eventually(5*time.Second, func() error {
			r, err := sc.metric("sidecar_media_packets_received_total")
			if err != nil {
				return err
			}
			s, err := sc.metric("sidecar_media_packets_sent_total")
			if err != nil {
				return err
			}
			recv, sent = r-recv0, s-sent0
			// SIPp plays /usr/share/sip-tester/g711a.pcap: 236 packets.
			if recv < 200 || sent < recv*0.9 {
				return fmt.Errorf("the sidecar received %v RTP packets and sent %v back; want >= 200 and nearly all back", recv, sent)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("echo: the sidecar received %v RTP packets and sent %v back", recv, sent)
	})

	t.Run("dtmf reads the digits back", func(t *testing.T) {
		c := &sipp{name: "dtmf", scenario: exampleScenario("dtmf.xml"), ip: kamIP, calls: 1}
		if err := c.run(t, dir, sc.sip); err != nil {
			t.Fatalf("examples/sipp/dtmf.xml (the sidecar hangs up after the read-back): %v", err)
		}
		// The digits SIPp sent as RFC 4733 events are the ones the dialplan says back.
		b, err := os.ReadFile(sc.log)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "app=SayDigits args=[1234]") {
			t.Fatalf("the sidecar's log has no read-back of 1234 (app=SayDigits args=[1234]):\n%s", tail(sc.log, 30))
		}
	})
}

// TestFirstCall runs the README's one command for a first call (make first-call runs the same
// script) on free ports, and checks that it reports a 200 and echoed audio.
func TestFirstCall(t *testing.T) {
	requireE2E(t)
	bin := sidecarBinary(t)
	rtp := freePortPair(t, kamIP)
	if rtp > 65400 {
		rtp = 40000
	}
	sipPort, adminPort, sippPort := freePort(t, kamIP), freePort(t, kamIP), freePort(t, kamIP)
	cmd := exec.Command(filepath.Join(repoRoot(t), "examples", "sipp", "first-call.sh"))
	cmd.Env = append(os.Environ(), "BIN="+bin,
		"SIP_PORT="+strconv.Itoa(sipPort), "ADMIN_PORT="+strconv.Itoa(adminPort),
		"SIPP_PORT="+strconv.Itoa(sippPort), "MEDIA_PORT="+strconv.Itoa(freePortPair(t, kamIP)),
		fmt.Sprintf("RTP_PORTS=%d-%d", rtp, rtp+99))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("examples/sipp/first-call.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"200 <----------", "Successful call", "first call OK: 200 and echoed audio"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("first-call.sh output lacks %q:\n%s", want, out)
		}
	}
	// The README shows this output as make first-call prints it: the default binary and ports.
	text := strings.NewReplacer(bin, "bin/sidecar",
		fmt.Sprintf("%s:%d", kamIP, sipPort), kamIP+":5080", fmt.Sprintf("%s:%d", kamIP, adminPort), kamIP+":5081",
		fmt.Sprintf("%s:%d", kamIP, sippPort), kamIP+":5090").Replace(string(out))
	checkDocSample(t, "README.md", "first-call", docblock.Fence("", text))
}

var updateDocs = flag.Bool("update-docs", false, "rewrite README.md's first-call sample (make docs)")

// docNumbers are what changes from one run to the next: counts, ports, pids, durations.
var docNumbers = regexp.MustCompile(`[0-9]+`)

// checkDocSample compares the generated block name of file (under the repository root) with
// body, numbers aside (they change with every run), or rewrites it with -update-docs.
func checkDocSample(t *testing.T, file, name, body string) {
	t.Helper()
	path := filepath.Join(repoRoot(t), file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := docblock.Find(file, string(b))
	if err != nil {
		t.Fatal(err)
	}
	bodies := make([]string, len(blocks))
	found := false
	norm := func(s string) string { return strings.Join(strings.Fields(docNumbers.ReplaceAllString(s, "N")), " ") }
	for i, bl := range blocks {
		bodies[i] = bl.Body
		if bl.Name != name {
			continue
		}
		found = true
		bodies[i] = body
		if !*updateDocs && norm(bl.Body) != norm(body) {
			t.Errorf("%s:%d: the %s sample is stale; run make docs. Today's output:\n%s", file, bl.Line, name, body)
		}
	}
	if !found {
		t.Fatalf("%s has no <!-- make docs: %s --> block", file, name)
	}
	if *updateDocs {
		if err := os.WriteFile(path, []byte(docblock.Replace(string(b), blocks, bodies)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
