package routing_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/routing"
)

func TestRenderExpands(t *testing.T) {
	b := loadBundle(t, nil, nil)
	raw := invite("1002", "X-Caller-Template: sub\nX-Pin: 4321\n")
	for _, show := range []bool{false, true} {
		res, err := routing.Render(context.Background(), b, routing.RenderInput{Raw: raw, Source: loopback, Transport: "udp", ShowSecrets: show})
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		pin := "****"
		if show {
			pin = "4321"
		}
		want := &routing.RenderedPlan{
			Context: "internal", Exten: "1002", Extension: "_1XXX",
			Steps: []string{
				"extensions.conf:2: 1: Set(TARGET=sip:{{ .Exten }}@192.0.2.9)",
				`extensions.conf:3: 2: Log(NOTICE,pin {{ .Header "X-Pin" }} from {{ .Caller.User }})`,
				`extensions.conf:4: 3: Transfer({{ .Var "TARGET" }})`,
			},
			Expanded: []string{
				"extensions.conf:2: 1: Set(TARGET=sip:1002@192.0.2.9)",
				"extensions.conf:3: 2: Log(NOTICE," + map[bool]string{false: "****", true: "pin 4321 from alice"}[show] + ")",
				"extensions.conf:4: 3: Transfer(sip:1002@192.0.2.9)",
			},
		}
		if diff := cmp.Diff(want, res.Dialplan); diff != "" {
			t.Errorf("show %v: dialplan (-want +got):\n%s", show, diff)
		}
		if res.Caller == nil || res.Caller.MailboxPIN != pin || res.Callee != nil {
			t.Errorf("show %v: caller %+v, callee %+v; want PIN %s and no callee", show, res.Caller, res.Callee, pin)
		}
		out, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if !show && strings.Contains(string(out), "4321") {
			t.Errorf("PIN in the JSON without ShowSecrets: %s", out)
		}
	}
}

func TestRenderExpandFailure(t *testing.T) {
	b := loadBundle(t, nil, map[string]string{
		"t.conf":          "[sub]\ncontext = c\n",
		"extensions.conf": "[c]\nexten => 1,1,NoOp({{ if eq .Exten \"1\" }}{{ fail \"no such luck\" }}{{ end }})\n",
	})
	res, err := routing.Render(context.Background(), b, routing.RenderInput{Raw: invite("1", "X-Caller-Template: sub\n"), Source: loopback, Transport: "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Dialplan.Expanded; len(got) != 1 || !strings.HasPrefix(got[0], "extensions.conf:2: 1: NoOp: cannot expand: argument 1 of NoOp:") || !strings.Contains(got[0], "no such luck") {
		t.Errorf("expanded = %q", got)
	}
}

func TestRenderFailures(t *testing.T) {
	b := loadBundle(t, func(c *config.Config) { c.SIP.NoMatchCode = 404 }, nil)
	tests := []struct {
		name      string
		in        routing.RenderInput
		is        error
		wantErr   string
		wantStage string // "": no result; trusted, identify, profile
	}{
		{"garbage", routing.RenderInput{Raw: []byte("hello\n"), Source: loopback, Transport: "udp"}, routing.ErrBadRequest, "parse request", ""},
		{"empty", routing.RenderInput{Source: loopback, Transport: "udp"}, routing.ErrBadRequest, "empty input", ""},
		{"response", routing.RenderInput{Raw: []byte("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK-1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1 INVITE\n"), Source: loopback, Transport: "udp"}, routing.ErrBadRequest, "a response, not a request", ""},
		{"transport", routing.RenderInput{Raw: invite("1", ""), Source: loopback, Transport: "sctp"}, routing.ErrBadRequest, "want udp, tcp or tls", ""},
		{"too large", routing.RenderInput{Raw: make([]byte, routing.MaxRenderInput+1), Source: loopback, Transport: "udp"}, routing.ErrBadRequest, "larger than", ""},
		{"untrusted", routing.RenderInput{Raw: invite("1", ""), Source: netip.MustParseAddrPort("192.0.2.1:5060"), Transport: "udp"}, routing.ErrUntrusted,
			"192.0.2.1:5060 is not in [sip] trusted (127.0.0.0/8): the request would be answered 403 Forbidden", "trusted"},
		{"no match", routing.RenderInput{Raw: invite("1", ""), Source: loopback, Transport: "udp"}, routing.ErrNoTemplate,
			"no identifier of [sip] identify = header matched (answer 404 Not Found)", "identify"},
		{"rejected", routing.RenderInput{Raw: invite("1", "X-Caller-Template: nosuch\n"), Source: loopback, Transport: "udp"}, nil,
			`unknown template "nosuch"`, "identify"},
		{"profile", routing.RenderInput{Raw: invite("1", "X-Caller-Template: sub\nX-Pin: 1x\n"), Source: loopback, Transport: "udp"}, nil,
			"build caller profile from template sub:", "profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := routing.Render(context.Background(), b, tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			switch tt.wantStage {
			case "":
				if res != nil {
					t.Errorf("a result for unreadable input: %+v", res)
				}
			case "trusted":
				if res == nil || res.Trusted || res.Identify != nil {
					t.Errorf("result %+v; want untrusted and nothing else", res)
				}
			case "identify", "profile":
				if res == nil || !res.Trusted || res.Identify == nil || res.Dialplan != nil {
					t.Fatalf("result %+v; want the identification and no dialplan", res)
				}
				if tt.wantStage == "identify" && res.Identify.Status == 0 {
					t.Errorf("report %+v lacks the SIP answer", res.Identify)
				}
				if tt.wantStage == "profile" && res.Identify.Identifier != "header" {
					t.Errorf("report %+v; want the match that preceded the failure", res.Identify)
				}
			}
		})
	}
}
