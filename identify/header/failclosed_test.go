package header

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/identify/anonymous"
	"github.com/sidecar-voip/sidecar/identify/internal/idtest"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/request"
)

// TestHeaderFailsClosed parses real SIP messages with sipgo, builds the template view with
// request.FromSIP and runs the real chain "header, anonymous": every bad or ambiguous template
// header is answered 400 or 403 by the header identifier and never reaches anonymous.
func TestHeaderFailsClosed(t *testing.T) {
	set := idtest.Set(t, idtest.Templates)
	deps := identify.Deps{Templates: set, Config: config.Identify{Anonymous: "anonymous"}}
	hdr, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	anon, err := anonymous.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	chain := identify.NewChain(hdr, anon)
	for _, tc := range []struct {
		name    string
		headers string // header lines, each ending in \r\n
		status  int    // 0: anonymous matches
	}{
		{"no template header reaches anonymous", "", 0},
		{"empty caller header", "X-Caller-Template:\r\n", 400},
		{"blank caller header", "X-Caller-Template:   \r\n", 400},
		{"empty callee header", "X-Callee-Template: \r\n", 400},
		{"parameters, no name", "X-Caller-Template: ;user=alice\r\n", 400},
		{"bare parameter, no name", "X-Caller-Template: ;x\r\n", 400},
		{"lone semicolon", "X-Callee-Template: ;\r\n", 400},
		{"two caller headers", "X-Caller-Template: subscriber\r\nX-Caller-Template: trunk\r\n", 400},
		{"two caller headers, first empty", "X-Caller-Template:\r\nX-Caller-Template: trunk\r\n", 400},
		{"two callee headers, other case", "X-Callee-Template: subscriber\r\nx-callee-template: trunk\r\n", 400},
		{"unknown template", "X-Caller-Template: ghost\r\n", 403},
		{"abstract template", "X-Callee-Template: base\r\n", 403},
		{"malformed name", "X-Caller-Template: na me\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := parseInvite(t, tc.headers)
			res, err := chain.Identify(context.Background(), req)
			if tc.status == 0 {
				if err != nil || res.Identifier != anonymous.Name {
					t.Fatalf("got %+v, %v; want anonymous", res, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("matched %q by %s, want a %d rejection", res.Caller.Name, res.Identifier, tc.status)
			}
			if errors.Is(err, identify.ErrNoMatch) || res.Identifier != Name {
				t.Fatalf("identifier %q, error %v: want a rejection by header", res.Identifier, err)
			}
			if st, _ := sipstatus.Of(identify.Answer(err, 403)); st != tc.status {
				t.Errorf("status %d, want %d (%v)", st, tc.status, err)
			}
		})
	}
}

// parseInvite parses an INVITE carrying the extra header lines, as the SIP service does.
func parseInvite(t *testing.T, headers string) *request.Request {
	t.Helper()
	raw := "INVITE sip:1002@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1\r\n" +
		"From: <sip:nobody@127.0.0.2>;tag=1\r\n" +
		"To: <sip:1002@127.0.0.1>\r\n" +
		"Call-ID: fail-closed@test\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Max-Forwards: 70\r\n" +
		headers +
		"Content-Length: 0\r\n\r\n"
	m, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	sreq, ok := m.(*sip.Request)
	if !ok {
		t.Fatalf("parsed %T", m)
	}
	req, err := request.FromSIP(sreq, netip.MustParseAddrPort("127.0.0.2:5062"), "udp")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Count(headers, "\r\n"); len(req.Headers("X-Caller-Template"))+len(req.Headers("X-Callee-Template")) != want {
		t.Fatalf("sipgo kept %d template headers of %d", len(req.Headers("X-Caller-Template"))+len(req.Headers("X-Callee-Template")), want)
	}
	return req
}
