package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const inviteLF = `INVITE sip:1002@sidecar.example SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1
From: "Alice" <sip:1001@example.com>;tag=abc
To: <sip:1002@example.com>
Call-ID: c1@x
CSeq: 1 INVITE
Max-Forwards: 70
X-Caller-Template: subscriber;user=alice
X-Callee-Template: callee-endpoint
X-MailBoxId: 1002
X-MailBoxPin: 4321
Content-Type: application/sdp
Content-Length: 999

v=0
o=- 1 1 IN IP4 10.0.0.1
s=-
`

func TestRenderShipped(t *testing.T) {
	file := writeFiles(t, map[string]string{
		"invite.sip":  strings.ReplaceAll(inviteLF, "\n", "\r\n"),
		"sidecar.ini": "[sip]\ntrusted = 2001:db8::/32\n",
	})
	code, full, errOut := runCmd([]string{"render", "-config", filepath.Join(file, "sidecar.ini"), "-source", "[2001:db8::5]:5070", "-transport", "tcp", filepath.Join(file, "invite.sip")}, "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var parts struct {
		Trusted  bool `json:"trusted"`
		Identify struct{ Identifier string }
		Caller   json.RawMessage `json:"caller"`
		Callee   json.RawMessage `json:"callee"`
		Dialplan struct {
			Context, Exten  string
			Steps, Expanded []string
		}
	}
	if err := json.Unmarshal([]byte(full), &parts); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, full)
	}
	if !parts.Trusted || parts.Identify.Identifier != "header" || parts.Dialplan.Context != "from-subscriber" || parts.Dialplan.Exten != "1002" {
		t.Errorf("trusted, identifier, context, exten = %v, %q, %q, %q; want true, header, from-subscriber, 1002",
			parts.Trusted, parts.Identify.Identifier, parts.Dialplan.Context, parts.Dialplan.Exten)
	}
	// The steps of the matched extension, as written and expanded for this request.
	if d := parts.Dialplan; len(d.Steps) == 0 || len(d.Expanded) != len(d.Steps) ||
		!strings.Contains(d.Steps[0], "GotoIf({{ .HasCallee }}?known)") || !strings.Contains(d.Expanded[0], "GotoIf(true?known)") {
		t.Errorf("dialplan steps %q, expanded %q; want GotoIf with .HasCallee expanded to true", d.Steps, d.Expanded)
	}
	profiles, err := json.MarshalIndent(struct {
		Caller json.RawMessage `json:"caller"`
		Callee json.RawMessage `json:"callee"`
	}{parts.Caller, parts.Callee}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out := string(profiles) + "\n"
	want := `{
  "caller": {
    "template": "subscriber",
    "params": {
      "user": "alice"
    },
    "user": "alice",
    "codecs": [
      "pcmu",
      "pcma",
      "g722"
    ],
    "context": "from-subscriber",
    "mailbox_id": "1002",
    "mwi": true,
    "location": "sip:alice@[2001:db8::5]:5070;transport=tcp",
    "publish_dialog_info": true,
    "callerid": {},
    "language": "en",
    "dtmf_mode": "rfc4733",
    "mailbox_pin": "****"
  },
  "callee": {
    "template": "callee-endpoint",
    "user": "1002",
    "codecs": [
      "pcmu",
      "pcma",
      "g722"
    ],
    "context": "to-subscriber",
    "mailbox_id": "1002",
    "mwi": true,
    "publish_dialog_info": false,
    "callerid": {},
    "language": "en",
    "dtmf_mode": "rfc4733"
  }
}
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("render output (-want +got):\n%s", diff)
	}
}

func TestRenderShowSecretsFromStdin(t *testing.T) {
	code, out, errOut := runCmd([]string{"render", "-show-secrets", "-"}, inviteLF)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Caller map[string]any `json:"caller"`
		Callee map[string]any `json:"callee"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if got.Caller["mailbox_pin"] != "4321" {
		t.Errorf("caller mailbox_pin = %v, want the PIN with -show-secrets", got.Caller["mailbox_pin"])
	}
	if got.Caller["location"] != "sip:alice@127.0.0.1:5060;transport=udp" {
		t.Errorf("caller location = %v, want the default source and transport", got.Caller["location"])
	}
}

func TestRenderExpandsArguments(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"t.conf":          "[subscriber]\ncontext = c\nmailbox-pin = {{ .Header \"X-MailBoxPin\" }}\n[callee-endpoint]\n",
		"extensions.conf": "[c]\nexten => _X.,1,Set(N={{ .Exten }})\n same => n,Log(NOTICE,{{ .Var \"N\" }} pin {{ .Header \"X-MailBoxPin\" }})\n",
	})
	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{nil, "extensions.conf:3: 2: Log(NOTICE,****)"},
		{[]string{"-show-secrets"}, "extensions.conf:3: 2: Log(NOTICE,1002 pin 4321)"},
	} {
		args := append(append([]string{"render", "-templates", dir}, tt.flags...), "-")
		code, out, errOut := runCmd(args, inviteLF)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.flags, code, errOut)
		}
		var got struct{ Dialplan struct{ Expanded []string } }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		want := []string{"extensions.conf:2: 1: Set(N=1002)", tt.want}
		if diff := cmp.Diff(want, got.Dialplan.Expanded); diff != "" {
			t.Errorf("%v: expanded (-want +got):\n%s", tt.flags, diff)
		}
	}
}

func TestRenderFailures(t *testing.T) {
	noHeaders := strings.Replace(strings.Replace(inviteLF, "X-Caller-Template: subscriber;user=alice\n", "", 1), "X-Callee-Template: callee-endpoint\n", "", 1)
	badPin := strings.Replace(inviteLF, "X-MailBoxPin: 4321", "X-MailBoxPin: 43x1", 1)
	unknown := strings.Replace(inviteLF, "callee-endpoint", "nosuch", 1)
	response := "SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK-1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 1 INVITE\n"
	dir := writeFiles(t, map[string]string{"bad/t.conf": "[t]\ncodec = pcmu\n", "ok/t.conf": "[t]\ncontext = x\n"})
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantErr  string
	}{
		{"no template", []string{"render", "-"}, noHeaders, 1, "no template matches"},
		{"untrusted", []string{"render", "-source", "192.0.2.1:5060", "-"}, inviteLF, 1, "not in [sip] trusted (127.0.0.0/8): the request would be answered 403 Forbidden"},
		{"field fails", []string{"render", "-"}, badPin, 1, `build caller profile from template subscriber: build profile: endpoints.conf:`},
		{"field fails names the template", []string{"render", "-"}, badPin, 1, `template "subscriber", mailbox-pin: mailbox PIN must be digits only`},
		{"unknown template", []string{"render", "-"}, unknown, 1, `unknown template "nosuch"`},
		{"response", []string{"render", "-"}, response, 1, "a response, not a request"},
		{"garbage", []string{"render", "-"}, "hello\n", 1, "parse request"},
		{"empty", []string{"render", "-"}, "", 1, "empty input"},
		{"missing file", []string{"render", filepath.Join(dir, "nope.sip")}, "", 1, "no such file"},
		{"bad templates", []string{"render", "-templates", filepath.Join(dir, "bad"), "-"}, inviteLF, 1, "t.conf:2: unknown key"},
		{"no match in dir", []string{"render", "-templates", filepath.Join(dir, "ok"), "-"}, inviteLF, 1, `unknown template "subscriber"`},
		{"bad source", []string{"render", "-source", "10.0.0.1", "-"}, inviteLF, 2, "want IP:PORT"},
		{"bad transport", []string{"render", "-transport", "sctp", "-"}, inviteLF, 2, "want udp, tcp or tls"},
		{"no file", []string{"render"}, "", 2, "usage: sidecar render"},
		{"two files", []string{"render", "a", "b"}, "", 2, "usage: sidecar render"},
		{"too large", []string{"render", "-"}, inviteLF + strings.Repeat("a", 70000), 1, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(tt.args, tt.stdin)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.wantCode, errOut)
			}
			if out != "" && !json.Valid([]byte(out)) { // a partial result (how far the request got) is JSON
				t.Errorf("stdout on failure is neither empty nor JSON: %q", out)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tt.wantErr)
			}
		})
	}
}
