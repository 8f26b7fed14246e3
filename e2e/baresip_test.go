package e2e

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireBaresip fails the test when SIDECAR_E2E is set and baresip is not installed.
func requireBaresip(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("baresip"); err != nil {
		t.Fatalf("SIDECAR_E2E is set but baresip is not installed (.ci/run installs it): %v", err)
	}
}

// phone is a running baresip: a real SIP phone that plays a WAV file into its calls, writes
// what it hears and sends to WAV files (module sndfile) and is driven over ctrl_tcp
// (netstring-framed JSON commands, responses and events).
type phone struct {
	*proc
	name  string
	snd   string // sndfile's folder: *-dec.wav heard, *-enc.wav sent
	conn  net.Conn
	mu    sync.Mutex
	evs   []map[string]any
	resp  chan map[string]any
	wake  chan struct{} // closed and replaced on every event
	token int
}

// startPhone runs baresip with its configuration in dir/name, G.711 only, playing source
// (an 8 kHz mono WAV) into every call, and connects to its control socket. mwi loads the mwi
// module (a SUBSCRIBE for message-summary per account made with ;mwi=yes). No account is
// configured: add one with addAccount once it runs.
func startPhone(t *testing.T, dir, name, source string, mwi bool) *phone {
	t.Helper()
	requireBaresip(t)
	home := filepath.Join(dir, name)
	snd := filepath.Join(home, "snd")
	if err := os.MkdirAll(snd, 0o755); err != nil {
		t.Fatal(err)
	}
	sipPort := freePort(t, kamIP)
	ctlPort := freePort(t, kamIP)
	rtp := freePortPair(t, kamIP)
	mods := "module g711.so\nmodule aufile.so\nmodule aubridge.so\nmodule sndfile.so\n"
	if mwi {
		mods += "module_app mwi.so\n"
	}
	cfg := fmt.Sprintf(`poll_method		epoll
sip_listen		%[1]s:%[2]d
net_interface		%[1]s
call_local_timeout	60
call_max_calls		4
audio_player		aubridge,nil
audio_source		aufile,%[3]s
audio_alert		aubridge,nil
ausrc_srate		8000
auplay_srate		8000
ausrc_channels		1
auplay_channels		1
rtp_ports		%[4]d-%[5]d
rtp_timeout		0
module_path		/usr/lib/baresip/modules
%[6]s
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		%[1]s:%[7]d
snd_path		%[8]s
`, kamIP, sipPort, source, rtp, rtp+3, mods, ctlPort, snd)
	mustWrite(t, filepath.Join(home, "config"), cfg)
	mustWrite(t, filepath.Join(home, "accounts"), "")
	mustWrite(t, filepath.Join(home, "contacts"), "")
	p := &phone{name: name, snd: snd, resp: make(chan map[string]any, 16), wake: make(chan struct{})}
	p.proc = startProc(t, dir, name, "baresip", "-f", home, "-s")
	err := eventually(10*time.Second, func() error {
		if !p.running() {
			return fmt.Errorf("baresip %s exited: %s", name, tail(p.log, 20))
		}
		c, err := net.Dial("tcp", net.JoinHostPort(kamIP, strconv.Itoa(ctlPort)))
		if err != nil {
			return err
		}
		p.conn = c
		return nil
	})
	if err != nil {
		t.Fatalf("baresip %s control socket: %v", name, err)
	}
	t.Cleanup(func() { p.conn.Close() })
	go p.read()
	return p
}

// read decodes netstrings from the control socket until it closes: responses go to p.resp,
// events to p.evs.
func (p *phone) read() {
	r := bufio.NewReader(p.conn)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(lenStr, ":")))
		if err != nil || n < 0 || n > 1<<20 {
			return
		}
		buf := make([]byte, n+1)
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(buf[:n], &m) != nil {
			continue
		}
		if m["response"] == true {
			select {
			case p.resp <- m:
			default:
			}
			continue
		}
		p.mu.Lock()
		p.evs = append(p.evs, m)
		close(p.wake)
		p.wake = make(chan struct{})
		p.mu.Unlock()
	}
}

// cmd runs a baresip command (the long names of its menu: dial, hangup, sndcode, uanew, ...)
// and returns its response's data.
func (p *phone) cmd(t *testing.T, command, params string) string {
	t.Helper()
	p.token++
	tok := strconv.Itoa(p.token)
	b, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": tok})
	if _, err := fmt.Fprintf(p.conn, "%d:%s,", len(b), b); err != nil {
		t.Fatalf("%s: send %s: %v", p.name, command, err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-p.resp:
			if m["token"] != tok {
				continue
			}
			if m["ok"] != true {
				t.Fatalf("%s: %s %q failed: %v", p.name, command, params, m["data"])
			}
			s, _ := m["data"].(string)
			return s
		case <-deadline:
			t.Fatalf("%s: no response to %s %q in 10 s", p.name, command, params)
		}
	}
}

// keys sends digits as RFC 4733 events, one sndcode (press and release) each: several
// digits in one sndcode are pressed without release and merge into fewer events.
func (p *phone) keys(t *testing.T, digits string) {
	t.Helper()
	for _, d := range digits {
		p.cmd(t, "sndcode", string(d))
	}
}

// events returns the events received so far.
func (p *phone) events() []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]any(nil), p.evs...)
}

// mark is the number of events received so far: waitEvent(mark, ...) looks at later ones only.
func (p *phone) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.evs)
}

// waitEvent waits up to d for an event of type typ after the first from events and returns it.
func (p *phone) waitEvent(t *testing.T, from int, typ string, d time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(d)
	for {
		p.mu.Lock()
		for _, e := range p.evs[min(from, len(p.evs)):] {
			if e["type"] == typ {
				p.mu.Unlock()
				return e
			}
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-deadline:
			var types []string
			for _, e := range p.events() {
				types = append(types, fmt.Sprint(e["type"]))
			}
			t.Fatalf("%s: no %s event in %v (events: %v); log:\n%s", p.name, typ, d, types, tail(p.log, 30))
		}
	}
}

// waitMWI waits up to d for an MWI NOTIFY (reported by the mwi module, inside the
// subscription it opened) after the first from events whose body has want
// ("Voice-Message: 1/0"), and returns the body.
func (p *phone) waitMWI(t *testing.T, from int, want string, d time.Duration) string {
	t.Helper()
	deadline := time.After(d)
	for {
		p.mu.Lock()
		for _, e := range p.evs[min(from, len(p.evs)):] {
			if body, _ := e["param"].(string); e["type"] == "MWI_NOTIFY" && strings.Contains(body, want) {
				p.mu.Unlock()
				return body
			}
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-deadline:
			var got []string
			for _, e := range p.events()[min(from, len(p.events())):] {
				if e["type"] == "MWI_NOTIFY" {
					got = append(got, fmt.Sprintf("%q", e["param"]))
				}
			}
			t.Fatalf("%s: no MWI NOTIFY with %q in %v (MWI NOTIFYs: %v); log:\n%s", p.name, want, d, got, tail(p.log, 30))
		}
	}
}

// addAccount creates a UA for user with digest credentials, sending everything through
// Kamailio, and waits for its registration. params are the account line's parameters
// (";answermode=auto", ";answermode=manual;mwi=yes", ...).
func (p *phone) addAccount(t *testing.T, k *kamailio, user, password, params string) {
	t.Helper()
	from := p.mark()
	acc := fmt.Sprintf(`<sip:%s@%s>;auth_pass=%s;outbound="sip:%s";regint=300%s`,
		user, domain, password, k.target(), params)
	p.cmd(t, "uanew", acc)
	p.waitEvent(t, from, "REGISTER_OK", 15*time.Second)
}

// heard returns the audio of the phone's last call as heard (dec) or as sent (enc), decoding
// a file still being written.
func (p *phone) audio(dir string) ([]int16, error) {
	files, _ := filepath.Glob(filepath.Join(p.snd, "*-"+dir+".wav"))
	if len(files) == 0 {
		return nil, fmt.Errorf("%s wrote no *-%s.wav in %s", p.name, dir, p.snd)
	}
	return readDump(files[len(files)-1])
}

// readDump reads a 16-bit PCM WAV file that sndfile may still be writing: its header's sizes
// are only filled in when the call ends, so the data chunk is taken to the end of the file.
func readDump(path string) ([]int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	i := bytes.Index(b, []byte("data"))
	if len(b) < 44 || string(b[:4]) != "RIFF" || i < 12 || i+8 > len(b) {
		return nil, fmt.Errorf("%s: no WAV data chunk yet", path)
	}
	if f := bytes.Index(b, []byte("fmt ")); f < 0 || f+24 > len(b) ||
		binary.LittleEndian.Uint16(b[f+8:]) != 1 || binary.LittleEndian.Uint16(b[f+22:]) != 16 {
		return nil, fmt.Errorf("%s: not 16-bit PCM", path)
	} else if rate := binary.LittleEndian.Uint32(b[f+12:]); rate != 8000 {
		return nil, fmt.Errorf("%s: %d Hz, want 8000", path, rate)
	}
	data := b[i+8:]
	s := make([]int16, len(data)/2)
	for j := range s {
		s[j] = int16(binary.LittleEndian.Uint16(data[2*j:]))
	}
	return s, nil
}

// loudFrames counts the 20 ms windows of s louder than a quiet line.
func loudFrames(s []int16) int {
	n := 0
	for _, e := range envelope(s) {
		if e > 300 {
			n++
		}
	}
	return n
}
