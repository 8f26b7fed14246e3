package routing_test

import (
	"context"
	"slices"
	"testing"

	"github.com/sidecar-voip/sidecar/routing"
)

// A header value written as template syntax is data: it is expanded into the dialplan's
// arguments as the text it is, never parsed or executed.
func TestHeaderTemplateSyntaxIsData(t *testing.T) {
	b := loadBundle(t, nil, map[string]string{
		"t.conf":          "[sub]\ncontext = c\nlocation = sip:{{ .Header \"X-V\" | urlquery }}@h\n",
		"extensions.conf": "[c]\nexten => 1002,1,NoOp(v={{ .Header \"X-V\" }})\n",
	})
	for _, v := range []string{`{{ .Caller.User }}`, `{{ fail "boom" }}`, `{{ template "x" }}`, `{{ env "HOME" }}`} {
		raw := invite("1002", "X-Caller-Template: sub\nX-V: "+v+"\n")
		res, err := routing.Render(context.Background(), b, routing.RenderInput{Raw: raw, Source: loopback, Transport: "udp", ShowSecrets: true})
		if err != nil {
			t.Fatalf("X-V %q: %v", v, err)
		}
		want := "extensions.conf:2: 1: NoOp(v=" + v + ")"
		if !slices.Contains(res.Dialplan.Expanded, want) {
			t.Errorf("X-V %q: expanded %q, want the value as written: %q", v, res.Dialplan.Expanded, want)
		}
	}
}
