package profile

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSecretMasked checks every way the PIN could be formatted.
func TestSecretMasked(t *testing.T) {
	const pin = "4321"
	dVerb := strings.Repeat("%d", 1) // a variable verb: vet rejects %d for a struct
	s := NewSecret(pin)
	p := &Profile{Template: "t", MailboxPIN: s}
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf strings.Builder
	// No time attribute: a timestamp such as 23:09:36.341 contains "34" and failed the check
	// below once a minute.
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{ReplaceAttr: noTime})).Info("x", "pin", s, "profile", p)
	for what, got := range map[string]string{
		"%v": fmt.Sprintf("%v", s), "%s": fmt.Sprintf("%s", s), "%d": fmt.Sprintf("%d", s),
		"%x": fmt.Sprintf("%x", s), "%q": fmt.Sprintf("%q", s), "%#v": fmt.Sprintf("%#v", s),
		"%+v profile": fmt.Sprintf("%+v", p), "%#v profile": fmt.Sprintf("%#v", p),
		"%d profile": fmt.Sprintf(dVerb, *p), "json": string(js), "slog": logBuf.String(),
	} {
		if strings.Contains(got, pin) || strings.Contains(got, "34") {
			t.Errorf("%s shows the PIN: %s", what, got)
		}
	}
	if got := RevealSecret(s); got != pin {
		t.Errorf("RevealSecret = %q", got)
	}
	if s.String() != "****" || NewSecret("").String() != "" || !NewSecret("").IsZero() || s.IsZero() {
		t.Errorf("String/IsZero wrong")
	}
	if js, _ := json.Marshal(&Profile{}); strings.Contains(string(js), "mailbox_pin") {
		t.Errorf("empty PIN marshalled: %s", js)
	}
}

// TestProfileLogValue checks that a logged profile names its params, vars and custom fields
// but never shows their values.
func TestProfileLogValue(t *testing.T) {
	p := &Profile{Template: "sub", User: "alice", Context: "from-sub", MailboxID: "100",
		MailboxPIN: NewSecret("4321"), Codecs: []string{"pcmu"},
		Params: map[string]string{"token": "PARAMSECRET"},
		Vars:   []Var{{Name: "API_KEY", Value: "VARSECRET"}},
		Custom: map[string]string{"x-auth": "CUSTOMSECRET"}}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("call", "caller", p)
	out := b.String()
	for _, bad := range []string{"4321", "PARAMSECRET", "VARSECRET", "CUSTOMSECRET"} {
		if strings.Contains(out, bad) {
			t.Errorf("log shows %s:\n%s", bad, out)
		}
	}
	for _, want := range []string{"template=sub", "user=alice", "context=from-sub", "mailbox_id=100",
		"token", "API_KEY", "x-auth", "mailbox_pin=****"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestSecretEqual(t *testing.T) {
	s := NewSecret("4321")
	for _, tc := range []struct {
		s    Secret
		v    string
		want bool
	}{
		{s, "4321", true}, {s, "432", false}, {s, "43210", false}, {s, "", false},
		{Secret{}, "", false}, {Secret{}, "1", false},
	} {
		if got := SecretEqual(tc.s, tc.v); got != tc.want {
			t.Errorf("SecretEqual(%v, len %d) = %v, want %v", tc.s, len(tc.v), got, tc.want)
		}
	}
}
