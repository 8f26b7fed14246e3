package header

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/identify/internal/idtest"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

func TestHeader(t *testing.T) {
	set := idtest.Set(t, idtest.Templates)
	id, err := New(identify.Deps{Templates: set})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		headers    []string
		want       identify.Result
		wantStatus int    // 0: no rejection
		wantErr    string // substring of the rejection
		noMatch    bool
	}{
		{name: "caller only", headers: []string{"X-Caller-Template", "subscriber;user=alice"},
			want: identify.Result{Caller: profile.Match{Name: "subscriber", Params: map[string]string{"user": "alice"}}}},
		{name: "callee only", headers: []string{"X-Callee-Template", "subscriber"},
			want: identify.Result{Callee: profile.Match{Name: "subscriber"}}},
		{name: "both", headers: []string{"X-Caller-Template", "trunk", "X-Callee-Template", "subscriber;user=bob"},
			want: identify.Result{Caller: profile.Match{Name: "trunk"}, Callee: profile.Match{Name: "subscriber", Params: map[string]string{"user": "bob"}}}},
		{name: "compact header names are case-insensitive", headers: []string{"x-caller-template", "trunk"},
			want: identify.Result{Caller: profile.Match{Name: "trunk"}}},
		{name: "none", noMatch: true},
		{name: "empty value", headers: []string{"X-Caller-Template", ""},
			wantStatus: 400, wantErr: "X-Caller-Template: invalid value: header present but no template selected"},
		{name: "blank callee value", headers: []string{"X-Caller-Template", "trunk", "X-Callee-Template", "  "},
			wantStatus: 400, wantErr: "X-Callee-Template: invalid value: header present"},
		{name: "parameters without a name", headers: []string{"X-Caller-Template", ";user=alice"},
			wantStatus: 400, wantErr: "without a template name"},
		{name: "bare parameter without a name", headers: []string{"X-Callee-Template", ";x"},
			wantStatus: 400, wantErr: "without a template name"},
		{name: "repeated caller header", headers: []string{"X-Caller-Template", "trunk", "X-Caller-Template", "subscriber"},
			wantStatus: 400, wantErr: "X-Caller-Template: invalid value: header given 2 times"},
		{name: "repeated callee header, compact case", headers: []string{"X-Callee-Template", "subscriber", "x-callee-template", "trunk"},
			wantStatus: 400, wantErr: "header given 2 times"},
		{name: "unknown caller template", headers: []string{"X-Caller-Template", "nosuch"},
			wantStatus: 403, wantErr: `templates.conf:3: template-as-caller: unknown template "nosuch"`},
		{name: "unknown callee template", headers: []string{"X-Caller-Template", "trunk", "X-Callee-Template", "nosuch;user=x"},
			wantStatus: 403, wantErr: `templates.conf:4: template-as-callee: unknown template "nosuch"`},
		{name: "abstract template", headers: []string{"X-Caller-Template", "base"},
			wantStatus: 403, wantErr: `abstract template "base"`},
		{name: "malformed name", headers: []string{"X-Caller-Template", "sub scriber"},
			wantStatus: 400, wantErr: "template name"},
		{name: "parameter without name", headers: []string{"X-Caller-Template", "subscriber;=x"},
			wantStatus: 400, wantErr: "without a name"},
		{name: "template text in a header is data", headers: []string{"X-Caller-Template", `{{ .Header "X" }}`},
			wantStatus: 400, wantErr: "not allowed"},
		{name: "overlong header", headers: []string{"X-Caller-Template", "subscriber;user=" + strings.Repeat("a", 600)},
			wantStatus: 400, wantErr: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := idtest.Request("127.0.0.1:5060", "alice", tt.headers...)
			got, err := id.Identify(context.Background(), req)
			switch {
			case tt.noMatch:
				if !errors.Is(err, identify.ErrNoMatch) {
					t.Fatalf("err = %v, want ErrNoMatch", err)
				}
			case tt.wantStatus != 0:
				var e *sipstatus.Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v (%T), want an *sipstatus.Error", err, err)
				}
				if e.Code != tt.wantStatus {
					t.Errorf("status = %d, want %d (%v)", e.Code, tt.wantStatus, e)
				}
				if !strings.Contains(e.Error(), tt.wantErr) {
					t.Errorf("error %q lacks %q", e.Error(), tt.wantErr)
				}
				if errors.Is(err, identify.ErrNoMatch) {
					t.Errorf("a rejection must not match ErrNoMatch: %v", err)
				}
				if len(e.Error()) > 400 {
					t.Errorf("log line is %d bytes, want the name, not the header: %q", len(e.Error()), e.Error())
				}
			default:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if d := cmp.Diff(tt.want, got); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
			}
		})
	}
}

// TestHeaderCustomMatch uses [template-match] expressions other than the default headers.
func TestHeaderCustomMatch(t *testing.T) {
	set := idtest.Set(t, `
[template-match]
template-as-caller = {{ if eq (.Header "X-Kind") "trunk" }}trunk{{ end }}
template-as-callee = {{ with .Header "X-MailBoxId" }}subscriber\;user={{ . }}{{ end }}
[trunk]
context = t
[subscriber]
context = s
`)
	id, err := New(identify.Deps{Templates: set})
	if err != nil {
		t.Fatal(err)
	}
	got, err := id.Identify(context.Background(), idtest.Request("127.0.0.1:5060", "a", "X-Kind", "trunk", "X-MailBoxId", "1002", "X-Caller-Template", "nosuch"))
	if err != nil {
		t.Fatal(err)
	}
	want := identify.Result{Caller: profile.Match{Name: "trunk"}, Callee: profile.Match{Name: "subscriber", Params: map[string]string{"user": "1002"}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Presence is about the default header names: X-Caller-Template present while the
	// custom template-as-caller selects nothing is refused.
	_, err = id.Identify(context.Background(), idtest.Request("127.0.0.1:5060", "a", "X-Kind", "other", "X-MailBoxId", "1002", "X-Caller-Template", "trunk"))
	if st, reason := sipstatus.Of(identify.Answer(err, 0)); st != 400 || reason != ReasonBadHeader {
		t.Errorf("custom expression, caller header present, nothing selected: got %d %q (%v), want 400", st, reason, err)
	}
	// Without the default headers, an empty custom selection is simply no match.
	_, err = id.Identify(context.Background(), idtest.Request("127.0.0.1:5060", "a", "X-Kind", "other"))
	if !errors.Is(err, identify.ErrNoMatch) {
		t.Errorf("custom expression, no headers: err %v, want ErrNoMatch", err)
	}
}

// lyingTemplates is a test double for a Templates implementation whose Select returns a name
// it does not Has (the real *profile.Set never does): the identifier must still fail closed.
type lyingTemplates struct{}

func (lyingTemplates) Select(*request.Request) (profile.Match, profile.Match, error) {
	return profile.Match{Name: "ghost"}, profile.Match{}, nil
}
func (lyingTemplates) Has(string) bool { return false }

func TestHeaderChecksHas(t *testing.T) {
	id, err := New(identify.Deps{Templates: lyingTemplates{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = id.Identify(context.Background(), idtest.Request("127.0.0.1:5060", "a"))
	if st, reason := sipstatus.Of(identify.Answer(err, 403)); st != 403 || reason != ReasonUnknownTemplate || !strings.Contains(err.Error(), `caller template "ghost"`) {
		t.Errorf("got %d %q (%v), want 403 Unknown Template naming the caller template", st, reason, err)
	}
}

func TestNewNeedsTemplates(t *testing.T) {
	if _, err := New(identify.Deps{}); err == nil {
		t.Error("New without templates succeeded")
	}
}
