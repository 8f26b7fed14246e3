package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	pionrtp "github.com/pion/rtp"

	"github.com/sidecar-voip/sidecar/internal/pgtest"
	"github.com/sidecar-voip/sidecar/mwi"
	"github.com/sidecar-voip/sidecar/rtp/codec/g711"
	"github.com/sidecar-voip/sidecar/rtp/dtmf"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/pgstore"
)

// The pool with a shared store: two real sidecar processes with [voicemail] store on one
// real PostgreSQL. Deposits are calls placed directly on a sidecar with the template headers
// Kamailio's route[TOVOICEMAIL] adds (X-Callee-Template, X-MailBoxId, Diversion), with G.711
// RTP and RFC 4733 '#': a first '#' skips the greeting, a second one ends the message. MWI is
// a SUBSCRIBE sent directly to sidecar B. A retrieval is a SIPp call to *97 on B with the
// owner's template, mailbox and PIN headers and the PIN, 1, 7 and # as RFC 2833 digits
// (testdata/vm_retrieve.xml). What the sidecars stored is read through the store API (one
// more store on the same database).

// vmCaller is one voicemail caller: a sipgo UAC and an RTP socket on kamIP (the address the
// sidecars trust).
type vmCaller struct {
	dialogs *sipgo.DialogClientCache
	byes    chan struct{}
	rtp     *net.UDPConn
	seq     uint16
	ts      uint32
}

func newVMCaller(t *testing.T) *vmCaller {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("e2e-vm"), sipgo.WithUserAgentHostname(kamIP))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", kamIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname(kamIP), sipgo.WithClientPort(port))
	if err != nil {
		t.Fatal(err)
	}
	c := &vmCaller{byes: make(chan struct{}, 4)}
	c.dialogs = sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "caller", Host: kamIP, Port: port}})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := c.dialogs.ReadBye(req, tx); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 481, "No Dialog", nil))
		}
		select {
		case c.byes <- struct{}{}:
		default:
		}
	})
	go srv.ServeUDP(pc)
	t.Cleanup(func() { ua.Close(); pc.Close() })
	if c.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(kamIP)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.rtp.Close() })
	return c
}

var (
	sdpConn  = regexp.MustCompile(`(?m)^c=IN IP4 (\S+)`)
	sdpAudio = regexp.MustCompile(`(?m)^m=audio (\d+)`)
)

// callResult is what became of one voicemail call.
type callResult struct {
	code   int           // final answer (200: answered)
	reason string        // its reason phrase
	retry  bool          // it carried Retry-After
	media  bool          // the sidecar sent audio
	bye    bool          // the sidecar hung up
	took   time.Duration // INVITE to the final answer, or to the sidecar's BYE when answered
}

// call places a voicemail call for mailbox on sc. With speak > 0 it records that much audio
// and ends the message with '#'; with speak == 0 it only waits up to wait for what the
// sidecar does (the fallback). Either way it waits up to wait for the sidecar's BYE.
func (c *vmCaller) call(sc *sidecar, mailbox string, speak, wait time.Duration) (callResult, error) {
	var r callResult
	laddr := c.rtp.LocalAddr().(*net.UDPAddr)
	body := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\nm=audio %[2]d RTP/AVP 0 101\r\n"+
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n", kamIP, laddr.Port)
	uri := sip.Uri{Scheme: "sip", User: mailbox, Host: sc.ip, Port: sc.port}
	hdrs := []sip.Header{
		sip.NewHeader("X-Callee-Template", "subscriber;user="+mailbox),
		sip.NewHeader("X-MailBoxId", mailbox),
		sip.NewHeader("Diversion", "<sip:"+mailbox+"@"+domain+">;reason=no-answer;counter=1"),
		sip.NewHeader("Content-Type", "application/sdp"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	d, err := c.dialogs.Invite(ctx, uri, []byte(body), hdrs...)
	if err != nil {
		return r, fmt.Errorf("invite: %w", err)
	}
	defer d.Close()
	err = d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	var re *sipgo.ErrDialogResponse
	if errors.As(err, &re) {
		r.code, r.reason, r.retry, r.took = re.Res.StatusCode, re.Res.Reason, re.Res.GetHeader("Retry-After") != nil, time.Since(start)
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("wait answer: %w", err)
	}
	r.code, r.reason = 200, d.InviteResponse.Reason
	if err := d.Ack(ctx); err != nil {
		return r, err
	}
	defer func() {
		if d.LoadState() == sip.DialogStateConfirmed {
			bctx, bcancel := context.WithTimeout(context.Background(), 2*time.Second)
			d.Bye(bctx)
			bcancel()
		}
	}()
	ans := string(d.InviteResponse.Body())
	mc, ma := sdpConn.FindStringSubmatch(ans), sdpAudio.FindStringSubmatch(ans)
	if mc == nil || ma == nil {
		return r, fmt.Errorf("answer SDP without address:\n%s", ans)
	}
	port, _ := strconv.Atoi(ma[1])
	to := netip.AddrPortFrom(netip.MustParseAddr(mc[1]), uint16(port))
	if err := c.recv(5 * time.Second); err != nil {
		return r, fmt.Errorf("no audio from the sidecar: %w", err)
	}
	r.media = true
	if speak > 0 {
		c.digit(to, 11) // '#': skip the greeting to the beep
		for c.recv(400*time.Millisecond) == nil {
			// the beep, then silence: recording
		}
		c.audio(to, speak)
		c.digit(to, 11) // '#': the message ends
	}
	select {
	case <-c.byes:
		r.bye, r.took = true, time.Since(start)
	case <-time.After(wait):
	}
	return r, nil
}

func (c *vmCaller) recv(wait time.Duration) error {
	buf := make([]byte, 1500)
	c.rtp.SetReadDeadline(time.Now().Add(wait))
	_, err := c.rtp.Read(buf)
	return err
}

func (c *vmCaller) send(to netip.AddrPort, pt uint8, marker bool, ts uint32, payload []byte) {
	p := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: c.seq, Timestamp: ts, SSRC: 0x5ca1e}, Payload: payload}
	c.seq++
	b, _ := p.Marshal()
	c.rtp.WriteToUDPAddrPort(b, to)
}

// digit sends one RFC 4733 event (11 is '#').
func (c *vmCaller) digit(to netip.AddrPort, code uint8) {
	c.ts += 8000
	c.send(to, 101, true, c.ts, dtmf.Event{Code: code, Duration: 160}.Append(nil))
	c.send(to, 101, false, c.ts, dtmf.Event{Code: code, Duration: 320}.Append(nil))
	for range 3 {
		c.send(to, 101, false, c.ts, dtmf.Event{Code: code, End: true, Duration: 480}.Append(nil))
	}
}

// audio sends d of a loud pseudo-random signal as µ-law, paced in real time.
func (c *vmCaller) audio(to netip.AddrPort, d time.Duration) {
	pcm := make([]int16, 160)
	x := uint32(7)
	tk := time.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	for n := 0; n < int(d/(20*time.Millisecond)); n++ {
		<-tk.C
		for i := range pcm {
			x = x*1664525 + 1013904223
			pcm[i] = int16(int32(x>>16)&0x3fff - 0x2000)
		}
		c.ts += 160
		c.send(to, 0, n == 0, c.ts, g711.Ulaw{}.Encode(nil, pcm))
	}
}

// subscribeAt subscribes a phone to a mailbox's message-summary directly at a sidecar.
func subscribeAt(t *testing.T, sc *sidecar, mailbox string) *sipPhone {
	t.Helper()
	p := newSIPPhone(t, "phone"+mailbox, "")
	ruri := sip.Uri{Scheme: "sip", User: mailbox, Host: sc.ip, Port: sc.port}
	req := sip.NewRequest(sip.SUBSCRIBE, ruri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: mailbox, Host: domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: mailbox, Host: domain}})
	host, port, _ := net.SplitHostPort(p.addr)
	portN, _ := strconv.Atoi(port)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: mailbox, Host: host, Port: portN}})
	req.AppendHeader(sip.NewHeader("Event", mwi.Event))
	req.AppendHeader(sip.NewHeader("Accept", mwi.ContentType))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	req.AppendHeader(sip.NewHeader("X-MailBoxId", mailbox))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err != nil || res.StatusCode/100 != 2 {
		t.Fatalf("SUBSCRIBE %s at %s: %v %v", mailbox, sc.addr(), res, err)
	}
	return p
}

// untilCounts reads NOTIFYs until one says want ("new/old") and returns when it came.
func untilCounts(t *testing.T, p *sipPhone, want string, within time.Duration) time.Time {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case n := <-p.notifies:
			if got := voiceCounts(t, n); got == want {
				return time.Now()
			}
		case <-deadline:
			t.Fatalf("no NOTIFY with Voice-Message %s within %v", want, within)
		}
	}
}

// TestVoicemailPoolSharedStore: two sidecars on one PostgreSQL serve every mailbox, MWI fans
// out between them, numbers never collide, a killed sidecar leaves no partial message, and a
// PostgreSQL outage gets the configured fallback, then recovers without a restart.
func TestVoicemailPoolSharedStore(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	// A refuses with 503 while the database is down, B plays the prompt (the default).
	a := startSidecarINI(t, dir, "sidecarA", sidecar1, "", "store = "+url+"\nunavailable = 503\nmaxsilence = 0s\n")
	b := startSidecarINI(t, dir, "sidecarB", sidecar2, "", "store = "+url+"\nmaxsilence = 0s\n")
	for _, s := range []*sidecar{a, b} {
		if err := eventually(20*time.Second, func() error {
			c, err := net.Dial("tcp", s.addr())
			if err == nil {
				c.Close()
			}
			return err
		}); err != nil {
			t.Fatalf("%s not listening: %v\n%s", s.proc.name, err, tail(s.log, 30))
		}
	}
	store, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	deposit := func(t *testing.T, sc *sidecar, mailbox string) {
		t.Helper()
		r, err := newVMCaller(t).call(sc, mailbox, time.Second, 10*time.Second)
		if err != nil || r.code != 200 || !r.bye {
			t.Fatalf("deposit for %s on %s: %+v %v\n%s", mailbox, sc.proc.name, r, err, tail(sc.log, 30))
		}
	}

	t.Run("deposit on A reaches a phone subscribed on B within a second", func(t *testing.T) {
		phone := subscribeAt(t, b, "2000")
		untilCounts(t, phone, "0/0", 10*time.Second)
		var lat []time.Duration
		for i := 1; i <= 3; i++ {
			deposit(t, a, "2000")
			byeAt := time.Now() // A hangs up after the commit
			lat = append(lat, untilCounts(t, phone, fmt.Sprintf("%d/0", i), 5*time.Second).Sub(byeAt))
		}
		t.Logf("MWI fan-out A->B (A's BYE after the commit to B's NOTIFY): %v", lat)
		for _, l := range lat {
			if l > time.Second {
				t.Errorf("NOTIFY from B %v after the deposit on A, want within 1 s", l)
			}
		}
		msgs, err := store.List(ctx, "2000", voicemail.Inbox)
		if err != nil || len(msgs) != 3 {
			t.Fatalf("the shared store lists %d messages (%v), want 3", len(msgs), err)
		}
		for _, m := range msgs {
			if m.Duration < 500*time.Millisecond {
				t.Errorf("message %d lasts %v, want about 1 s", m.ID, m.Duration)
			}
		}
	})

	t.Run("deposit on A, retrieved, played and deleted on B by a call", func(t *testing.T) {
		const mailbox = "6000"
		phone := subscribeAt(t, a, mailbox) // the owner's phone hears of it through A
		untilCounts(t, phone, "0/0", 10*time.Second)
		deposit(t, a, mailbox)
		untilCounts(t, phone, "1/0", 5*time.Second)
		msgs, err := store.List(ctx, mailbox, voicemail.Inbox)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("the shared store lists %d messages for %s (%v), want 1", len(msgs), mailbox, err)
		}
		id := msgs[0].ID
		// *97 straight to B as Kamailio sends a subscriber's feature code: the owner's template,
		// mailbox and PIN in headers, the PIN typed as RFC 2833 digits, then 1 (play the first
		// message), 7 16 s later (delete it) and # (quit). The scenario types bobPIN.
		keys := map[string]string{"user": "bob", "domain": domain, "mailbox": mailbox, "pin": bobPIN}
		call := &sipp{name: "retrieve-on-B", scenario: "vm_retrieve.xml", ip: kamIP, calls: 1, keys: keys,
			extra: []string{"-timeout", "60s"}}
		from := len(readLog(t, b.log))
		call.background(t, dir, b.addr())
		// The message heard to its end moves to Old, before 7 deletes it: the playback. (A 7
		// during the playback would interrupt it and delete the message at once.)
		start := time.Now()
		var heardAt time.Duration
		tick := time.NewTicker(100 * time.Millisecond)
	poll:
		for heardAt == 0 {
			select {
			case <-call.proc.done:
				break poll
			case <-tick.C:
				if time.Since(start) > 60*time.Second {
					break poll
				}
				if old, err := store.List(ctx, mailbox, voicemail.Old); err == nil && len(old) == 1 && old[0].ID == id {
					heardAt = time.Since(start)
				}
			}
		}
		tick.Stop()
		if heardAt == 0 {
			t.Errorf("B did not play message %d to its end before the 7 (it never was in Old)\n%s", id, tail(b.log, 40))
		} else {
			t.Logf("message %d heard to its end on B %v after the call started", id, heardAt.Round(time.Millisecond))
		}
		ok, werr := call.proc.wait(60 * time.Second)
		if !ok {
			call.proc.stop(t)
			t.Fatalf("the retrieval call on B still runs after 60 s\n%s", tail(b.log, 40))
		}
		if werr != nil {
			t.Errorf("the retrieval call on B failed: %v (see retrieve-on-B.err)\n%s", werr, tail(b.log, 40))
		}
		blog := readLog(t, b.log)[from:]
		login := regexp.MustCompile(`msg="VoiceMailMain: login" .* mailbox=` + mailbox + `\b`)
		deleted := regexp.MustCompile(fmt.Sprintf(`msg="VoiceMailMain: message deleted" .* mailbox=%s id=%d\b`, mailbox, id))
		if !login.MatchString(blog) {
			t.Errorf("B's log has no login to mailbox %s", mailbox)
		}
		if !deleted.MatchString(blog) {
			t.Errorf("B's log has no deletion of message %d of mailbox %s", id, mailbox)
		}
		if strings.Contains(blog, "VoiceMailMain: wrong PIN") {
			t.Errorf("B refused the PIN typed as RFC 2833 digits")
		}
		// Deleted on B, gone from the shared store, and A's subscriber hears of it.
		if n, err := store.Count(ctx, mailbox, voicemail.Inbox); err != nil || n != 0 {
			t.Errorf("INBOX holds %d messages after the delete on B (%v)", n, err)
		}
		if n, err := store.Count(ctx, mailbox, voicemail.Old); err != nil || n != 0 {
			t.Errorf("Old holds %d messages after the delete on B (%v)", n, err)
		}
		untilCounts(t, phone, "0/0", 5*time.Second)
	})

	t.Run("50 concurrent deposits over both sidecars: 50 distinct messages", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			sc := a
			if i%2 == 1 {
				sc = b
			}
			c := newVMCaller(t)
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := c.call(sc, "3000", time.Second, 20*time.Second)
				if err == nil && (r.code != 200 || !r.bye) {
					err = fmt.Errorf("%+v", r)
				}
				if err != nil {
					errs <- fmt.Errorf("deposit %d on %s: %w", i, sc.proc.name, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		msgs, err := store.List(ctx, "3000", voicemail.Inbox)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[uint64]bool{}
		for _, m := range msgs {
			ids[m.ID] = true
		}
		if len(msgs) != 50 || len(ids) != 50 {
			t.Fatalf("%d messages, %d distinct numbers; want 50 and 50", len(msgs), len(ids))
		}
	})

	t.Run("PostgreSQL stopped 10 s under calls: fallback, then recovery", func(t *testing.T) {
		phone := subscribeAt(t, b, "5000")
		untilCounts(t, phone, "0/0", 10*time.Second)
		pg.Stop(t)
		down := time.Now()
		var seen []string
		for time.Since(down) < 10*time.Second {
			ra, err := newVMCaller(t).call(a, "5000", 0, 0)
			if err != nil || ra.code != 503 || ra.reason != "Voicemail Unavailable" || ra.retry || ra.took > 4*time.Second {
				t.Errorf("A (unavailable = 503) during the outage: %+v %v", ra, err)
			}
			rb, err := newVMCaller(t).call(b, "5000", 0, 10*time.Second)
			if err != nil || rb.code != 200 || !rb.media || !rb.bye {
				t.Errorf("B (unavailable = prompt) during the outage: %+v %v", rb, err)
			}
			seen = append(seen, fmt.Sprintf("A %d in %v, B prompt and BYE in %v", ra.code, ra.took.Round(time.Millisecond), rb.took.Round(time.Millisecond)))
		}
		t.Logf("during the outage: %v", seen)
		select { // B's phone keeps its state: no NOTIFY with other counts
		case n := <-phone.notifies:
			if got := voiceCounts(t, n); got != "0/0" {
				t.Errorf("NOTIFY %s during the outage", got)
			}
		default:
		}
		pg.Start(t)
		up := time.Now()
		for {
			r, err := newVMCaller(t).call(b, "5000", time.Second, 10*time.Second)
			if err == nil && r.code == 200 && r.bye {
				if n, _ := store.Count(ctx, "5000", voicemail.Inbox); n == 1 {
					break
				}
			}
			if time.Since(up) > 30*time.Second {
				t.Fatalf("no deposit 30 s after PostgreSQL came back: %+v %v", r, err)
			}
		}
		t.Logf("first deposit stored %v after PostgreSQL came back", time.Since(up).Round(time.Millisecond))
		untilCounts(t, phone, "1/0", 10*time.Second)
		// A deposit on A reaches B's phone too: A recovered, B's LISTEN is back.
		deposit(t, a, "5000")
		untilCounts(t, phone, "2/0", 5*time.Second)
	})

	t.Run("kill -9 of A during recordings: no partial message, B serves the rest", func(t *testing.T) {
		deposit(t, a, "4000")
		deposit(t, a, "4000")
		var wg sync.WaitGroup
		for range 4 { // recording 10 s each on A when it dies
			c := newVMCaller(t)
			wg.Add(1)
			go func() { defer wg.Done(); c.call(a, "4000", 10*time.Second, time.Second) }()
		}
		time.Sleep(5 * time.Second)
		if err := a.signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		deposit(t, b, "4000")
		deposit(t, b, "4000")
		wg.Wait()
		msgs, err := store.List(ctx, "4000", voicemail.Inbox)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 4 {
			t.Fatalf("%d messages after the kill, want the 4 completed ones", len(msgs))
		}
		for _, m := range msgs {
			_, f, err := store.Open(ctx, "4000", m.ID)
			if err != nil || m.Duration < 500*time.Millisecond || m.Duration > 2*time.Second {
				t.Errorf("message %d: %v, %v", m.ID, m.Duration, err)
				continue
			}
			f.Close()
		}
	})
}

// readLog returns the log at path so far.
func readLog(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}
