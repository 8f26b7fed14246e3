package request_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/request"
)

// FromSIP over whatever sipgo's parser accepts: it returns a view or an error, never panics,
// and the view answers the accessors templates call.
func FuzzFromSIP(f *testing.F) {
	for _, s := range []string{
		"INVITE sip:1@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: \"A\\\"b\" <sip:a@b>;tag=1\r\nTo: <sip:1@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		"OPTIONS sips:[::1]:5061;transport=tls SIP/2.0\r\nf: sip:%61@b\r\nt: tel:+1-555\r\ni: x\r\nX-Caller-Template: {{ .Header \"X\" }}\r\nl: 0\r\n\r\n",
		"INVITE sip:b SIP/2.0\r\nFrom: <sip:a@b\r\nTo: sip:c\r\n\r\n",
		"BYE sip:user;x=y?h=v@host SIP/2.0\r\nFrom: \"\" <sip:@>;tag=\r\nTo: <sip:@>\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	src := netip.MustParseAddrPort("192.0.2.1:5060")
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := sip.ParseMessage(data)
		if err != nil {
			return
		}
		sreq, ok := m.(*sip.Request)
		if !ok {
			return
		}
		r, err := request.FromSIP(sreq, src, "udp")
		if err != nil {
			if r != nil {
				t.Fatalf("FromSIP: a view and an error %v", err)
			}
			return
		}
		for _, f := range r.Fields() {
			if r.Header(f.Name) == "" && f.Value != "" && !r.HasHeader(f.Name) {
				t.Errorf("header %q listed but not found", f.Name)
			}
			_ = r.Headers(strings.ToLower(f.Name))
		}
	})
}
