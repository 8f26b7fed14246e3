package request

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/tools/txtar"
)

// eagerFromSIP is FromSIP as it was before the lazy header view: every header value turned
// into text at once. It is the reference the lazy view must agree with.
func eagerFromSIP(t *testing.T, req *sip.Request, src netip.AddrPort, transport string) *Request {
	t.Helper()
	from, to := req.From(), req.To()
	callID := ""
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	var fields []Field
	for _, h := range req.Headers() {
		fields = append(fields, Field{Name: h.Name(), Value: h.Value()})
	}
	return New(string(req.Method), uriFromSIP(req.Recipient),
		Address{Display: unescapeDisplay(from.DisplayName), URI: uriFromSIP(from.Address), Tag: paramOf(from.Params, "tag")},
		Address{Display: unescapeDisplay(to.DisplayName), URI: uriFromSIP(to.Address), Tag: paramOf(to.Params, "tag")},
		callID, Endpoint{IP: src.Addr().Unmap(), Port: int(src.Port())}, transport, fields)
}

// sipCorpus returns the requests of the RFC 4475 torture set that sipgo parses (sipgo's
// copy in third_party) and the requests of the profile golden files, by name.
func sipCorpus(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	torture, err := filepath.Glob("../third_party/sipgo/sip/testdata/torture/*/*.dat")
	if err != nil || len(torture) == 0 {
		t.Fatalf("torture messages: %v (found %d)", err, len(torture))
	}
	for _, p := range torture {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = data
	}
	golden, err := filepath.Glob("../profile/testdata/golden/*.txtar")
	if err != nil || len(golden) == 0 {
		t.Fatalf("golden files: %v (found %d)", err, len(golden))
	}
	for _, p := range golden {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if !strings.HasSuffix(f.Name, ".sip") {
				continue
			}
			// as profile's golden test sends them: LF lines, no body
			data := bytes.ReplaceAll(bytes.TrimSpace(f.Data), []byte("\n"), []byte("\r\n"))
			out[p+":"+f.Name] = append(data, "\r\nContent-Length: 0\r\n\r\n"...)
		}
	}
	return out
}

// manyHeaders is more headers than a typical INVITE has (10-14).
const manyHeaders = 16

// TestLazyHeadersMatchEager checks the lazy header view against the eager reference over
// every torture and golden request sipgo parses: the same fields, and the same answers to
// Header, Headers and HasHeader for every name present (as received, in other cases, in
// compact form) and for a few absent ones.
func TestLazyHeadersMatchEager(t *testing.T) {
	src := netip.MustParseAddrPort("192.0.2.1:5060")
	compared, long := 0, 0 // long: more than manyHeaders headers
	for name, data := range sipCorpus(t) {
		m, err := sip.ParseMessage(data)
		if err != nil {
			continue
		}
		sreq, ok := m.(*sip.Request)
		if !ok {
			continue
		}
		lazy, err := FromSIP(sreq, src, "udp")
		if err != nil {
			continue // no From or To: no view either way
		}
		compared++
		if len(sreq.Headers()) > manyHeaders {
			long++
		}
		eager := eagerFromSIP(t, sreq, src, "udp")
		if diff := cmp.Diff(eager, lazy, cmpopts.IgnoreUnexported(Request{}), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("%s: fields (-eager +lazy):\n%s", name, diff)
		}
		if diff := cmp.Diff(eager.Fields(), lazy.Fields()); diff != "" {
			t.Errorf("%s: Fields (-eager +lazy):\n%s", name, diff)
		}
		names := []string{"X-Absent", "x", "", "Via", "v", "f", "t", "m", "i", "l", "c"}
		for _, f := range eager.Fields() {
			names = append(names, f.Name, strings.ToUpper(f.Name), strings.ToLower(f.Name), " "+f.Name+" ")
		}
		// a fresh lazy view per order: the first read of a header must agree too, not only
		// the cached one
		for _, lz := range []*Request{lazy, mustFromSIP(t, sreq, src)} {
			for _, n := range names {
				if got, want := lz.Header(n), eager.Header(n); got != want {
					t.Errorf("%s: Header(%q) = %q, want %q", name, n, got, want)
				}
				if diff := cmp.Diff(eager.Headers(n), lz.Headers(n)); diff != "" {
					t.Errorf("%s: Headers(%q) (-eager +lazy):\n%s", name, n, diff)
				}
				if got, want := lz.HasHeader(n), eager.HasHeader(n); got != want {
					t.Errorf("%s: HasHeader(%q) = %v, want %v", name, n, got, want)
				}
				if got, want := HeaderCount(lz, n), len(eager.Headers(n)); got != want {
					t.Errorf("%s: HeaderCount(%q) = %d, Headers has %d", name, n, got, want)
				}
				if got, want := HeaderCount(eager, n), len(eager.Headers(n)); got != want {
					t.Errorf("%s: eager HeaderCount(%q) = %d, Headers has %d", name, n, got, want)
				}
			}
		}
	}
	t.Logf("compared %d requests, %d with more than %d headers", compared, long, manyHeaders)
	if compared < 20 || long == 0 {
		t.Fatalf("compared %d requests (%d long), want the torture and golden sets (>= 20, some long)", compared, long)
	}
}

func mustFromSIP(t *testing.T, sreq *sip.Request, src netip.AddrPort) *Request {
	t.Helper()
	r, err := FromSIP(sreq, src, "udp")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLazyHeadersConcurrent reads one view's headers from several goroutines at once, each
// first read racing the others (run with -race: the cached values are published atomically).
func TestLazyHeadersConcurrent(t *testing.T) {
	m, err := sip.ParseMessage([]byte("INVITE sip:1@b SIP/2.0\r\nVia: SIP/2.0/UDP h:5062;branch=z9hG4bK1\r\n" +
		"From: \"A\" <sip:a@b>;tag=1\r\nTo: <sip:1@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContact: <sip:a@h>\r\n" +
		"X-MailBoxId: 1001\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	src := netip.MustParseAddrPort("192.0.2.1:5060")
	r := mustFromSIP(t, m.(*sip.Request), src)
	want := eagerFromSIP(t, m.(*sip.Request), src, "udp").Fields()
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(want))
	for range 8 {
		wg.Go(func() {
			for _, f := range want {
				if got := r.Header(f.Name); got != f.Value {
					errs <- f.Name + ": " + got
				}
			}
			if diff := cmp.Diff(want, r.Fields()); diff != "" {
				errs <- diff
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestFromSIPHeaderAllocs bounds what FromSIP allocates for a typical INVITE (the view alone:
// no cache until a typed header is read, not one string per header) and checks a generic
// header's lookup is free.
func TestFromSIPHeaderAllocs(t *testing.T) {
	m, err := sip.ParseMessage([]byte("INVITE sip:1@b SIP/2.0\r\nVia: SIP/2.0/UDP h:5062;branch=z9hG4bK1\r\n" +
		"From: \"A\" <sip:a@b>;tag=1\r\nTo: <sip:1@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContact: <sip:a@h>\r\n" +
		"Max-Forwards: 70\r\nX-Caller-Template: subscriber\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	sreq := m.(*sip.Request)
	src := netip.MustParseAddrPort("192.0.2.1:5060")
	if n := testing.AllocsPerRun(100, func() { _, _ = FromSIP(sreq, src, "udp") }); n > 1 {
		t.Errorf("FromSIP allocates %v times, want 1", n)
	}
	r := mustFromSIP(t, sreq, src)
	if n := testing.AllocsPerRun(100, func() { r.Header("x-caller-template") }); n != 0 {
		t.Errorf("Header allocates %v times per lookup, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { HeaderCount(r, "x-caller-template") }); n != 0 {
		t.Errorf("HeaderCount allocates %v times, want 0", n)
	}
}

// TestLazyTypedHeaderConcurrent: readers racing on the first read of typed headers (the
// cache made on first use) all get sipgo's text, and a generic header never makes the cache.
func TestLazyTypedHeaderConcurrent(t *testing.T) {
	m, err := sip.ParseMessage([]byte("INVITE sip:1@b SIP/2.0\r\nVia: SIP/2.0/UDP h:5062;branch=z9hG4bK1\r\n" +
		"From: \"A\" <sip:a@b>;tag=1\r\nTo: <sip:1@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContact: <sip:a@h>\r\n" +
		"X-Caller-Template: subscriber\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	sreq := m.(*sip.Request)
	r := mustFromSIP(t, sreq, netip.MustParseAddrPort("192.0.2.1:5060"))
	if r.Header("X-Caller-Template") != "subscriber" || r.lazy.made.Load() != nil {
		t.Fatal("a generic header's read made the typed-header cache")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, n := range []string{"Via", "Contact", "CSeq", "From"} {
				if got, want := r.Header(n), sreq.GetHeader(n).Value(); got != want {
					t.Errorf("Header(%q) = %q, want %q", n, got, want)
				}
			}
		})
	}
	wg.Wait()
}
