package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// reloadResult is the JSON of POST /reload (routing.Result), as a client reads it.
type reloadResult struct {
	OK     bool     `json:"ok"`
	Errors []string `json:"errors"`
}

// postReload asks the admin endpoint at addr for a reload.
func postReload(addr string) (int, reloadResult, error) {
	var res reloadResult
	resp, err := http.Post("http://"+addr+"/reload", "", nil)
	if err != nil {
		return 0, res, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&res)
	return resp.StatusCode, res, err
}

// Reload under load: SIPp calls a real sidecar at a steady 100 calls per second for 15 s
// while its templates and dialplan change 50 times cleanly and break 50 times (an unknown
// key in the templates, an unknown application in the dialplan, alternately). Every call
// must succeed (each gets the dialplan's 486, whichever valid version routed it), every
// broken reload must be refused with its file:line, and the reload counters must add up.
func TestReloadUnderLoad(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	bin := sidecarBinary(t)
	tdir := filepath.Join(dir, "templates")
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		t.Fatal(err)
	}
	tconf, econf := filepath.Join(tdir, "t.conf"), filepath.Join(tdir, "extensions.conf")
	good := func(i int) {
		mustWrite(t, tconf, fmt.Sprintf("; version %d\n[sub]\ncontext = c\n", i))
		mustWrite(t, econf, fmt.Sprintf("[c]\nexten => _X.,1,Set(VERSION=%d)\n same => n,Busy()\n", i))
	}
	good(0)
	ini, sipPort, adminPort := adminServeIni(t, dir, tdir, "reload", "")
	sc := startProc(t, dir, "sidecar", bin, "serve", "-config", ini)
	admin := fmt.Sprintf("127.0.0.1:%d", adminPort)
	if err := eventually(15*time.Second, func() error {
		resp, err := http.Get("http://" + admin + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}); err != nil {
		t.Fatalf("sidecar not up: %v\n%s", err, tail(sc.log, 30))
	}

	const rate, seconds, breaks = 100, 15, 50
	load := &sipp{name: "load", scenario: "reload_486.xml", ip: "127.0.0.1", calls: rate * seconds, rate: rate,
		keys: map[string]string{"exten": "100", "template": "sub"}, extra: []string{"-l", "200"}}
	load.background(t, dir, fmt.Sprintf("%s:%d", sidecar1, sipPort))

	// 100 reloads spread over the run: odd ones broken, even ones clean.
	tick := time.NewTicker(seconds * time.Second / (2 * breaks) * 9 / 10)
	defer tick.Stop()
	refused := 0
	for i := 1; i <= 2*breaks; i++ {
		<-tick.C
		var want string
		switch {
		case i%2 == 0:
			good(i)
		case i%4 == 1:
			mustWrite(t, tconf, fmt.Sprintf("; version %d\n[sub]\ncontext = c\nno-such-key = %d\n", i, i))
			want = tconf + ":4: "
		default:
			mustWrite(t, econf, fmt.Sprintf("[c]\nexten => _X.,1,Set(VERSION=%d)\n same => n,NoSuchApp()\n same => n,Busy()\n", i))
			want = econf + ":3: "
		}
		code, res, err := postReload(admin)
		switch {
		case err != nil:
			t.Fatalf("reload %d: %v", i, err)
		case want == "" && (code != 200 || !res.OK):
			t.Errorf("clean reload %d: %d %+v", i, code, res)
		case want != "" && (code != 422 || res.OK || len(res.Errors) != 1 || !strings.HasPrefix(res.Errors[0], want)):
			t.Errorf("broken reload %d: %d %+v; want one error at %s", i, code, res, want)
		case want != "":
			refused++
			if i%4 == 1 {
				good(i) // repair the templates: the next break is in the dialplan alone
			}
		}
	}
	exited, err := load.proc.wait(60 * time.Second)
	if !exited || err != nil {
		t.Fatalf("sipp: exited %v, %v: some calls failed\n%s", exited, err, tail(filepath.Join(dir, "load.err"), 20))
	}
	if refused != breaks {
		t.Errorf("%d broken reloads refused, want %d", refused, breaks)
	}
	logText, _ := os.ReadFile(sc.log)
	if n := strings.Count(string(logText), `msg="reload refused: `); n != breaks {
		t.Errorf("%d refused-error log lines, want %d (one per broken reload, one error each)", n, breaks)
	}
	if n := strings.Count(string(logText), `msg="reload applied"`); n != breaks {
		t.Errorf("%d reloads applied, want %d", n, breaks)
	}
	// Every call reached the sidecar and was counted: none was lost to a reload.
	if metrics := metricsText(t, admin); !strings.Contains(metrics, fmt.Sprintf("\nsidecar_calls_total %d\n", rate*seconds)) {
		t.Errorf("sidecar_calls_total is not %d:\n%s", rate*seconds, metrics)
	}
}

// metricsText returns the admin endpoint's /metrics.
func metricsText(t *testing.T, admin string) string {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// adminServeIni writes dir/NAME.ini for a sidecar on sidecar1 serving the templates in tdir
// (context c by default), with its admin API on a free loopback port (adminExtra: more [admin]
// lines, each ending in a newline), and returns its path and the SIP and admin ports.
func adminServeIni(t *testing.T, dir, tdir, name, adminExtra string) (ini string, sipPort, adminPort int) {
	t.Helper()
	sipPort, adminPort = freePort(t, sidecar1), freePort(t, "127.0.0.1")
	rtp := freePortPair(t, sidecar1)
	if rtp > 65400 {
		rtp = 40000
	}
	ini = filepath.Join(dir, name+".ini")
	mustWrite(t, ini, fmt.Sprintf(`[general]
templates = %[1]s
[sip]
listen = udp:%[2]s:%[3]d
trusted = 127.0.0.1
max-calls = 2000
drain-grace = 2s
default-context = c
[rtp]
ports = %[4]d-%[5]d
address = %[2]s
[admin]
listen = 127.0.0.1:%[6]d
%[8]s[voicemail]
dir = %[7]s
`, tdir, sidecar1, sipPort, rtp, rtp+99, adminPort, filepath.Join(dir, "voicemail"), adminExtra))
	return ini, sipPort, adminPort
}
