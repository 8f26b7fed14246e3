package sipsvc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// sipgoUAC is a real sipgo user agent on loopback with a listener, so the service's BYE
// reaches it.
type sipgoUAC struct {
	client  *sipgo.Client
	dialogs *sipgo.DialogClientCache
	byes    chan *sip.Request
	addr    netip.AddrPort
}

func newSipgoUAC(t *testing.T, network string) *sipgoUAC {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-uac"), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	u := &sipgoUAC{client: client, byes: make(chan *sip.Request, 4)}
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := u.dialogs.ReadBye(req, tx); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 481, "No Dialog", nil))
		}
		u.byes <- req
	})
	// Our own socket, served by the UAC's sipgo server, so the service's BYE reaches it.
	switch network {
	case "udp":
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		u.addr = conn.LocalAddr().(*net.UDPAddr).AddrPort()
		go srv.ServeUDP(conn)
		t.Cleanup(func() { conn.Close() })
	default:
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		u.addr = ln.Addr().(*net.TCPAddr).AddrPort()
		go srv.ServeTCP(ln)
		t.Cleanup(func() { ln.Close() })
	}
	t.Cleanup(func() { ua.Close() })
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: int(u.addr.Port())}}
	if network == "tcp" {
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", "tcp")
	}
	u.dialogs = sipgo.NewDialogClientCache(client, contact)
	return u
}

// invite calls exten at srv and waits for the answer.
func (u *sipgoUAC) invite(t *testing.T, srv netip.AddrPort, network, exten string, hdrs ...sip.Header) (*sipgo.DialogClientSession, error) {
	t.Helper()
	uri := sip.Uri{Scheme: "sip", User: exten, Host: srv.Addr().String(), Port: int(srv.Port())}
	if network == "tcp" {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", "tcp")
	}
	hdrs = append(hdrs, sip.NewHeader("Content-Type", "application/sdp"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := u.dialogs.Invite(ctx, uri, []byte(offerSDP), hdrs...)
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	return d, d.WaitAnswer(ctx, sipgo.AnswerOptions{})
}

func statusOfErr(err error) int {
	var re *sipgo.ErrDialogResponse
	if errors.As(err, &re) {
		return re.Res.StatusCode
	}
	var rv sipgo.ErrDialogResponse
	if errors.As(err, &rv) {
		return rv.Res.StatusCode
	}
	return 0
}

// Dialplan apps answer: Busy -> 486, Transfer -> 302 with Contact: <target>.
func TestDialplanAnswers(t *testing.T) {
	e := startEnv(t, nil)
	for _, network := range []string{"udp", "tcp"} {
		u := newSipgoUAC(t, network)
		srv := e.udp
		if network == "tcp" {
			srv = sipsvctestAddr(t, e, "tcp")
		}
		_, err := u.invite(t, srv, network, "busy", sip.NewHeader("X-Caller-Template", "sub"))
		if got := statusOfErr(err); got != 486 {
			t.Errorf("%s busy: got %v (%d), want 486", network, err, got)
		}
		_, err = u.invite(t, srv, network, "transfer", sip.NewHeader("X-Caller-Template", "sub"))
		var re *sipgo.ErrDialogResponse
		if !errors.As(err, &re) || re.Res.StatusCode != 302 {
			t.Fatalf("%s transfer: got %v, want 302", network, err)
		}
		if c := re.Res.Contact(); c == nil || c.Address.String() != "sip:bob@192.0.2.9:5060" {
			t.Errorf("%s transfer: Contact %v, want <sip:bob@192.0.2.9:5060>", network, c)
		}
	}
	st := e.srv.Stats()
	if st.Rejected[486] != 2 || st.Rejected[302] != 2 {
		t.Errorf("Stats.Rejected = %v, want 486:2 302:2", st.Rejected)
	}
}

// An answered call: 200 with the media plane's SDP, ACK, BYE from the caller -> 200, the
// media session is closed and no BYE comes back.
func TestAnswerAndCallerHangs(t *testing.T) {
	e := startEnv(t, nil)
	u := newSipgoUAC(t, "udp")
	d, err := u.invite(t, e.udp, "udp", "answer", sip.NewHeader("X-Caller-Template", "sub"))
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	if got := string(d.InviteResponse.Body()); !strings.Contains(got, "m=audio 40000") {
		t.Errorf("200 OK body %q is not the media plane's SDP", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })
	callID := d.InviteRequest.CallID().Value()
	sess := e.media.Session(callID)
	if sess == nil || string(sess.Offer()) != offerSDP {
		t.Fatalf("media session for %s not opened with the INVITE's offer", callID)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	waitFor(t, 2*time.Second, "media closed", sess.Closed)
	waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
	select {
	case bye := <-u.byes:
		t.Errorf("service sent BYE after the caller's: %s", bye.StartLine())
	case <-time.After(200 * time.Millisecond):
	}
	if !strings.Contains(e.log.String(), "ended_by=caller") {
		t.Errorf("no call end log with ended_by=caller:\n%s", e.log.String())
	}
}

func sipsvctestAddr(t *testing.T, e *env, transport string) netip.AddrPort {
	t.Helper()
	for _, l := range e.srv.Addrs() {
		if l.Transport == transport {
			return l.Addr
		}
	}
	t.Fatalf("no %s listener", transport)
	return netip.AddrPort{}
}

// The dialplan hangs up an answered call: BYE goes through the Record-Route set (to the
// proxy, with Route), its Request-URI is the caller's Contact.
func TestHangupThroughRecordRoute(t *testing.T) {
	e := startEnv(t, nil)
	proxy := newRawUAC(t, "127.0.0.1", e.udp) // stands in for Kamailio: sends the INVITE, gets the BYE
	contact := "sip:alice@127.0.0.1:9"        // the phone behind the proxy: never reached directly
	inv := msg{method: "INVITE", ruri: "sip:hangup@" + e.udp.String(), toUser: "hangup", body: offerSDP,
		contact: contact, headers: []string{
			"X-Caller-Template: sub",
			fmt.Sprintf("Record-Route: <sip:%s;lr>", proxy.local),
		}}
	proxy.send(proxy.text(&inv))
	ok := proxy.final(3 * time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	if rr := ok.GetHeader("Record-Route"); rr == nil || !strings.Contains(rr.Value(), proxy.local.String()) {
		t.Errorf("200 OK lacks the Record-Route: %v", rr)
	}
	proxy.send(proxy.ackFor(inv, ok))
	bye := proxy.request(3 * time.Second)
	if bye.Method != sip.BYE {
		t.Fatalf("got %s, want BYE", bye.Method)
	}
	if bye.Recipient.String() != contact {
		t.Errorf("BYE Request-URI %s, want the caller's Contact %s", bye.Recipient.String(), contact)
	}
	if r := bye.GetHeader("Route"); r == nil || !strings.Contains(r.Value(), proxy.local.String()) {
		t.Errorf("BYE Route = %v, want the Record-Route %s", r, proxy.local)
	}
	if tag := func() string { v, _ := bye.From().Params.Get("tag"); return v }(); tag != tagOf(ok) {
		t.Errorf("BYE From tag %q, want our 200's To tag %q", tag, tagOf(ok))
	}
	proxy.respond(bye, 200, "OK")
	waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
}

// Answer without a media plane fails with 500; a media plane refusing the offer chooses
// the answer (488).
func TestAnswerMediaFailures(t *testing.T) {
	call := func(t *testing.T, e *env) *sip.Response {
		u := newRawUAC(t, "127.0.0.1", e.udp)
		inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer", body: offerSDP,
			headers: []string{"X-Caller-Template: sub"}}
		u.send(u.text(&inv))
		res := u.final(2 * time.Second)
		u.send(u.ackNon2xx(inv, res))
		return res
	}
	t.Run("no media plane", func(t *testing.T) {
		e := startEnvOpts(t, nil, func(o *sipsvc.Options) { o.Media = nil })
		if res := call(t, e); res.StatusCode != 500 {
			t.Errorf("got %d, want 500", res.StatusCode)
		}
		if !strings.Contains(e.log.String(), "no media plane") {
			t.Errorf("no log line says why:\n%s", e.log.String())
		}
	})
	t.Run("offer refused", func(t *testing.T) {
		e := startEnv(t, nil)
		e.media.Fail(sipstatus.New(488, errors.New("no common codec")))
		if res := call(t, e); res.StatusCode != 488 {
			t.Errorf("got %d, want 488", res.StatusCode)
		}
	})
}

// CANCEL before answer: 200 to the CANCEL, 487 to the INVITE, the dialplan stops.
func TestCancelBeforeAnswer(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:ring@" + e.udp.String(), toUser: "ring", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}, branch: "z9hG4bK" + token()}
	u.send(u.text(&inv))
	// 180 Ringing from the dialplan at once, so no 100 Trying (trying.go); a 100 before it
	// is allowed (a loaded machine may take 200 ms to ring).
	var got []int
	for len(got) == 0 || got[len(got)-1] != 180 {
		m := u.next(2 * time.Second)
		if m == nil {
			t.Fatalf("provisional answers: got %v, want [180] or [100 180]", got)
		}
		if r, ok := m.(*sip.Response); ok {
			got = append(got, r.StatusCode)
		}
	}
	if len(got) > 2 || (len(got) == 2 && got[0] != 100) {
		t.Fatalf("provisional answers %v, want [180] or [100 180]", got)
	}
	cancel := inv
	cancel.method, cancel.body, cancel.headers = "CANCEL", "", nil
	u.send(u.text(&cancel))
	codes := map[string]int{}
	for len(codes) < 2 {
		res := u.final(2 * time.Second)
		codes[res.CSeq().MethodName.String()] = res.StatusCode
		if res.CSeq().MethodName == sip.INVITE {
			u.send(u.ackNon2xx(inv, res))
		}
	}
	if codes["CANCEL"] != 200 || codes["INVITE"] != 487 {
		t.Errorf("answers %v, want CANCEL 200 and INVITE 487", codes)
	}
	waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
}

// A 200 that is never ACKed ends the call with BYE and a warning, after ack-timeout.
func TestUnacknowledgedAnswer(t *testing.T) {
	e := startEnv(t, nil) // ack-timeout 1s
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	start := time.Now()
	u.send(u.text(&inv))
	if res := u.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("got %d, want 200", res.StatusCode)
	}
	// No ACK. Retransmitted 200s may come first; then the BYE.
	bye := u.request(5 * time.Second)
	if bye.Method != sip.BYE {
		t.Fatalf("got %s, want BYE", bye.Method)
	}
	if waited := time.Since(start); waited < e.cfg.SIP.ACKTimeout {
		t.Errorf("BYE after %v, before the ack-timeout %v", waited, e.cfg.SIP.ACKTimeout)
	}
	u.respond(bye, 200, "OK")
	waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
	if n := e.srv.Stats().NoACK; n != 1 {
		t.Errorf("Stats.NoACK = %d, want 1", n)
	}
	if !strings.Contains(e.log.String(), "never acknowledged") {
		t.Errorf("no warning about the missing ACK:\n%s", e.log.String())
	}
}

// In-dialog requests: re-INVITE -> 200 with the session's answer (or a fresh offer whose
// answer comes in the ACK), OPTIONS and INFO -> 200; the media session ending by itself -> BYE.
func TestInDialogRequests(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	ok := u.final(2 * time.Second)
	if ok.StatusCode != 200 {
		t.Fatalf("got %d, want 200", ok.StatusCode)
	}
	u.send(u.ackFor(inv, ok))
	waitFor(t, 2*time.Second, "answered", func() bool { return e.srv.Stats().Answered == 1 })

	in := inv
	in.toTag = tagOf(ok)
	hold := strings.Replace(offerSDP, "t=0 0\r\n", "t=0 0\r\na=sendonly\r\n", 1)
	for i, tc := range []struct {
		method, body, wantBody string
	}{
		{"OPTIONS", "", ""},
		{"INFO", "", ""},
		{"INVITE", hold, "o=sidecar 1 2 "},
		{"INVITE", "", "o=sidecar 1 3 "}, // a fresh offer: the double's SetRemote(nil)
	} {
		r := in
		r.method, r.body, r.cseq, r.headers, r.branch = tc.method, tc.body, 2+i, nil, ""
		u.send(u.text(&r))
		res := u.final(2 * time.Second)
		if res.StatusCode != 200 {
			t.Fatalf("in-dialog %s: got %d, want 200", tc.method, res.StatusCode)
		}
		if !strings.Contains(string(res.Body()), tc.wantBody) {
			t.Errorf("in-dialog %s: body %q lacks %q", tc.method, res.Body(), tc.wantBody)
		}
		if tc.method == "INVITE" {
			ack := r
			ack.method, ack.body, ack.branch = "ACK", "", ""
			if tc.body == "" {
				ack.body = offerSDP // the answer to our offer
			}
			u.send(u.text(&ack))
		}
	}
	sess := e.media.Session(inv.callIDOr(t, ok))
	waitFor(t, 2*time.Second, "ACK answer applied", func() bool { return len(sess.Remotes()) == 3 })
	if got := sess.Remotes(); string(got[0]) != hold || len(got[1]) != 0 || string(got[2]) != offerSDP {
		t.Errorf("SetRemote got %q, want the re-INVITE's offer, nil (make an offer), the ACK's answer", got)
	}
	sess.End()
	bye := u.request(3 * time.Second)
	if bye.Method != sip.BYE {
		t.Fatalf("after media end: got %s, want BYE", bye.Method)
	}
	u.respond(bye, 200, "OK")
	waitFor(t, 2*time.Second, "media closed", sess.Closed)
}

func (m msg) callIDOr(t *testing.T, res *sip.Response) string {
	if m.callID != "" {
		return m.callID
	}
	return res.CallID().Value()
}

// A panicking application: 500, the panic logged with its stack, the process serves on.
func TestPanicRecovered(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:panic@" + e.udp.String(), toUser: "panic", body: offerSDP,
		headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	res := u.final(2 * time.Second)
	if res.StatusCode != 500 {
		t.Fatalf("got %d, want 500", res.StatusCode)
	}
	u.send(u.ackNon2xx(inv, res))
	if !strings.Contains(e.log.String(), "test panic") || !strings.Contains(e.log.String(), "goroutine") {
		t.Errorf("panic not logged with a stack:\n%s", e.log.String())
	}
	u.send(u.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
	if res := u.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("OPTIONS after panic: got %d", res.StatusCode)
	}
	waitFor(t, 2*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
	if n := e.srv.Stats().Panics; n != 1 {
		t.Errorf("Stats.Panics = %d, want 1", n)
	}
}

// Over TCP: the service's BYE reaches the caller's Contact (;transport=tcp) and the call ends.
func TestHangupOverTCP(t *testing.T) {
	e := startEnv(t, nil)
	u := newSipgoUAC(t, "tcp")
	d, err := u.invite(t, sipsvctestAddr(t, e, "tcp"), "tcp", "hangup", sip.NewHeader("X-Caller-Template", "sub"))
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case bye := <-u.byes:
		if bye.Transport() != "TCP" {
			t.Errorf("BYE over %s, want TCP", bye.Transport())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no BYE from the service")
	}
	waitFor(t, 3*time.Second, "call slot released", func() bool { return e.srv.Stats().CallsActive == 0 })
	if !strings.Contains(e.log.String(), "ended_by=sidecar") {
		t.Errorf("no call end log with ended_by=sidecar:\n%s", e.log.String())
	}
}

// A late offer: the INVITE has no SDP, the 200 carries the media plane's offer, and the
// ACK's SDP is handed to the session as the answer.
func TestLateOffer(t *testing.T) {
	e := startEnv(t, nil)
	u := newRawUAC(t, "127.0.0.1", e.udp)
	inv := msg{method: "INVITE", ruri: "sip:answer@" + e.udp.String(), toUser: "answer",
		headers: []string{"X-Caller-Template: sub"}}
	u.send(u.text(&inv))
	ok := u.final(2 * time.Second)
	if ok.StatusCode != 200 || !strings.Contains(string(ok.Body()), "m=audio") {
		t.Fatalf("got %d with body %q, want 200 with an SDP offer", ok.StatusCode, ok.Body())
	}
	ack := inv
	ack.method, ack.branch, ack.toTag, ack.body = "ACK", "", tagOf(ok), offerSDP
	u.send(u.text(&ack))
	sess := e.media.Session(inv.callID)
	if sess == nil || len(sess.Offer()) != 0 {
		t.Fatalf("session not opened with an empty offer")
	}
	waitFor(t, 2*time.Second, "ACK answer applied", func() bool { return len(sess.Remotes()) == 1 })
	if got := string(sess.Remotes()[0]); got != offerSDP {
		t.Errorf("SetRemote got %q, want the ACK's SDP", got)
	}
	bye := inv
	bye.method, bye.branch, bye.cseq, bye.toTag = "BYE", "", 2, tagOf(ok)
	u.send(u.text(&bye))
	if res := u.final(2 * time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: got %d", res.StatusCode)
	}
}
