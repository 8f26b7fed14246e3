package routing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/routing"
)

// Render (behind `sidecar render` and the admin page's form) over any input: it returns a
// result or one of its documented errors, never panics; ParseRequest likewise.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		string(invite("1002", "X-Caller-Template: sub\nX-Pin: 4321\n")),
		string(invite("1002", "X-Caller-Template: {{ .Header \"X-Pin\" }}\n")),
		string(invite("_X.", "X-Caller-Template: nosuch\n")),
		"INVITE sip:1@b SIP/2.0\n\nv=0\n",
		"SIP/2.0 200 OK\n\n",
		"\n\n\n",
		"INVITE sip:1@b SIP/2.0\nContent-Length: 99999\nl: -1\n\nbody",
	} {
		f.Add([]byte(s))
	}
	b := loadBundle(f, nil, nil)
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, _ = routing.ParseRequest(raw, loopback, "tcp")
		res, err := routing.Render(context.Background(), b, routing.RenderInput{Raw: raw, Source: loopback, Transport: "udp"})
		if err == nil {
			if res == nil {
				t.Fatal("Render: no result and no error")
			}
			return
		}
		var st *sipstatus.Error
		if !errors.Is(err, routing.ErrBadRequest) && !errors.Is(err, routing.ErrUntrusted) &&
			!errors.Is(err, routing.ErrNoTemplate) && !errors.As(err, &st) {
			t.Errorf("Render: undocumented error %v", err)
		}
	})
}
