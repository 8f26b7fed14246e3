package safetmpl

import (
	"errors"
	"strings"
	"testing"
)

type data struct{ User, Evil string }

func TestCompileExecute(t *testing.T) {
	funcs := Funcs()
	tests := []struct {
		name, text, want, wantErr string
	}{
		{name: "literal", text: "plain value", want: "plain value"},
		{name: "field", text: "sip:{{ .User }}@h", want: "sip:alice@h"},
		{name: "sprig", text: `{{ .User | upper | trunc 3 }}`, want: "ALI"},
		{name: "header value is data", text: "{{ .Evil }}", want: "{{ .User }}"},
		{name: "unknown field", text: "{{ .Usr }}", wantErr: "can't evaluate field Usr"},
		{name: "env removed", text: `{{ env "HOME" }}`, wantErr: `function "env" not defined`},
		{name: "expandenv removed", text: `{{ expandenv "$HOME" }}`, wantErr: `function "expandenv" not defined`},
		{name: "dns removed", text: `{{ getHostByName "x" }}`, wantErr: `function "getHostByName" not defined`},
		{name: "pseudo", text: "sip:${From-Header-URI-Username}@x", wantErr: "write {{ .From.User }} instead of ${From-Header-URI-Username}"},
		{name: "pseudo header", text: "${header(X-MailBoxId)}", wantErr: `{{ .Header "X-MailBoxId" }}`},
		{name: "too long", text: `{{ range until 4000 }}ab{{ end }}`, wantErr: "expanded value too long"},
		{name: "repeat bounded", text: `{{ repeat 999999999 "a" }}`, wantErr: "count too large"},
		{name: "until bounded", text: `{{ range until 999999999 }}{{ end }}`, wantErr: "count too large"},
		{name: "untilStep bounded", text: `{{ range untilStep 0 999999999 1 }}{{ end }}`, wantErr: "count too large"},
		{name: "seq bounded", text: `{{ seq 1 999999999 }}`, wantErr: "count too large"},
		{name: "untilStep overflow", text: `{{ range untilStep -9223372036854775808 9223372036854775807 1 }}{{ end }}`, wantErr: "count too large"},
		{name: "untilStep overflow from data", text: `{{ range untilStep (atoi "-9223372036854775808") (atoi "9223372036854775807") 1 }}{{ end }}`, wantErr: "count too large"},
		{name: "seq overflow two", text: `{{ seq -9223372036854775808 9223372036854775807 }}`, wantErr: "count too large"},
		{name: "seq overflow three", text: `{{ seq -9223372036854775808 1 9223372036854775807 }}`, wantErr: "count too large"},
		{name: "repeat overflow", text: `{{ repeat 9223372036854775807 "ab" }}`, wantErr: "count too large"},
		{name: "untilStep near MaxInt ends", text: `{{ untilStep 9223372036854775800 9223372036854775807 5 }}`, want: "[9223372036854775800 9223372036854775805]"},
		{name: "seq near MaxInt ends", text: `{{ seq 9223372036854775805 9223372036854775807 }}|{{ seq 9223372036854775800 5 9223372036854775807 }}`, want: "9223372036854775805 9223372036854775806 9223372036854775807|9223372036854775800 9223372036854775805"},
		{name: "seq near MinInt ends", text: `{{ seq -9223372036854775806 -1 -9223372036854775808 }}`, want: "-9223372036854775806 -9223372036854775807 -9223372036854775808"},
		{name: "sprig seq semantics", text: `{{ seq 0 }}|{{ seq -2 }}|{{ seq 3 1 }}|{{ seq 1 0 5 }}|{{ seq 5 1 1 }}|{{ seq 1 -1 3 }}`, want: "1 0|1 0 -1 -2|3 2 1|||"},
		{name: "untilStep small", text: `{{ untilStep 0 10 3 }} {{ untilStep 10 0 -4 }} {{ untilStep 0 10 -1 }}`, want: "[0 3 6 9] [10 6 2] []"},
		{name: "seq small", text: `{{ seq 5 3 }}|{{ seq 1 2 6 }}`, want: "5 4 3|1 3 5"},
		{name: "rand bounded", text: `{{ randAlpha 999999999 }}`, wantErr: "count too large"},
		{name: "indent bounded", text: `{{ indent 999999999 "x" }}`, wantErr: "count too large"},
		{name: "keygen removed", text: `{{ genPrivateKey "rsa" }}`, wantErr: `function "genPrivateKey" not defined`},
		{name: "bcrypt removed", text: `{{ bcrypt "x" }}`, wantErr: `function "bcrypt" not defined`},
		{name: "small counts work", text: `{{ repeat 3 "ab" }}{{ len (until 5) }}{{ seq 3 }}`, want: "ababab51 2 3"},
		{name: "unclosed", text: "{{ .User ", wantErr: "parse template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Compile("f.conf:1", tt.text, funcs)
			var got string
			if err == nil {
				got, err = v.Execute(data{User: "alice", Evil: "{{ .User }}"}, 0)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLiteralLimit(t *testing.T) {
	v, err := Compile("x", strings.Repeat("a", 20), Funcs())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Execute(nil, 10); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v, want ErrTooLong", err)
	}
	if !v.IsLiteral() {
		t.Fatal("want literal")
	}
}
