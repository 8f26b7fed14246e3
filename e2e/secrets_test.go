package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The PINs of the suite never reach a sidecar's log (docs/sip-service.md: secrets are never
// logged). newRunDir's cleanup scans every sidecar*.log of every run folder of the suite with
// leakedPINs before removing it; the SIPp traces and Kamailio's log are not scanned, as the PIN
// travels in X-MailBoxPin on the wire by design.

var (
	pinsOnce sync.Once
	pins     []string
)

// suitePINs returns the voicemail PINs the suite uses: the vmpin column of the shipped
// subscriber table and every literal "mailbox-pin = N" in the suite's sources and scenarios.
func suitePINs(t *testing.T) []string {
	pinsOnce.Do(func() {
		root := repoRoot(t)
		seen := map[string]bool{}
		add := func(p string) {
			p = strings.TrimSpace(p)
			if len(p) >= 3 && strings.Trim(p, "0123456789") == "" && !seen[p] {
				seen[p] = true
				pins = append(pins, p)
			}
		}
		if f, err := os.Open(filepath.Join(root, "examples", "kamailio", "db", "subscriber")); err == nil {
			sc := bufio.NewScanner(f)
			col := -1
			for sc.Scan() {
				fields := strings.Split(sc.Text(), ":")
				if col < 0 {
					for i, h := range strings.Fields(sc.Text()) {
						if strings.HasPrefix(h, "vmpin(") {
							col = i
						}
					}
					continue
				}
				if col < len(fields) {
					add(fields[col])
				}
			}
			f.Close()
		}
		lit := regexp.MustCompile(`mailbox-pin\s*=\s*([0-9]+)`)
		files, _ := filepath.Glob(filepath.Join(root, "e2e", "*.go"))
		more, _ := filepath.Glob(filepath.Join(root, "e2e", "testdata", "*"))
		for _, f := range append(files, more...) {
			b, _ := os.ReadFile(f)
			for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
				add(m[1])
			}
		}
	})
	if len(pins) == 0 {
		t.Fatalf("no PIN found in the shipped subscriber table: the log scan would prove nothing")
	}
	return pins
}

// numericContext matches what may precede a number that is not a PIN: an address's port or a
// counter's key.
var numericContext = regexp.MustCompile(`(\d+\.\d+\.\d+\.\d+:|\]:|(^|[^A-Za-z_-])(port|ports|sent|received|lost|dropped|calls|pid|id|attempt|bytes|size)=)$`)

// leakedPINs returns the lines of text that carry one of pins as a token of its own (not part
// of a longer number or word, not a port or a counter).
func leakedPINs(text string, pins []string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for _, pin := range pins {
			for i := 0; ; {
				j := strings.Index(line[i:], pin)
				if j < 0 {
					break
				}
				at, end := i+j, i+j+len(pin)
				i = end
				if at > 0 && isWordByte(line[at-1]) || end < len(line) && isWordByte(line[end]) {
					continue
				}
				if numericContext.MatchString(line[max(0, at-24):at]) {
					continue
				}
				out = append(out, line)
				break
			}
		}
	}
	return out
}

func isWordByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '-' || b == '_'
}

// checkLogsForPINs fails t when a sidecar log in the run folder dir holds a PIN.
func checkLogsForPINs(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "sidecar*.log"))
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		for _, line := range leakedPINs(string(b), suitePINs(t)) {
			t.Errorf("a PIN is in the sidecar log %s: %s", filepath.Base(l), line)
		}
	}
}

// The scan must be able to fail: a PIN in a log line is found however it is quoted, and the
// same digits inside a port, an address or a longer number are not.
func TestLeakedPINs(t *testing.T) {
	pins := []string{"4321"}
	for _, leak := range []string{
		`level=DEBUG msg=x X-MailBoxPin=4321`,
		`msg="header" value="X-MailBoxPin: 4321"`,
		`args="[4321 #]"`,
		`mailbox-pin = 4321`,
	} {
		if len(leakedPINs(leak, pins)) != 1 {
			t.Errorf("leak not found in %q", leak)
		}
	}
	for _, clean := range []string{
		`from=127.0.0.1:4321 to=127.0.0.2:54321`,
		`port=4321 sent=4321 call_id=ab4321cd tag=4321-x 143210`,
		`mailbox-pin=**** duration=14.321s`,
	} {
		if l := leakedPINs(clean, pins); len(l) != 0 {
			t.Errorf("false leak in %q", clean)
		}
	}
	if ps := suitePINs(t); !strings.Contains(strings.Join(ps, ","), bobPIN) {
		t.Errorf("suite PINs %v miss bob's %s", ps, bobPIN)
	}
}
