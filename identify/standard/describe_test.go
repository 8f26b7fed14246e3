package standard

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/identify/internal/idtest"
	"github.com/sidecar-voip/sidecar/request"
)

// TestDescribe checks what "sidecar render" would print for a chain of the real identifiers.
func TestDescribe(t *testing.T) {
	ch := chainFor(t, "[sip]\nidentify = header, ip, anonymous\nno-match = 404\n[identify]\nip = 192.0.2.0/24 => trunk\n")
	tests := []struct {
		name string
		req  *request.Request
		want string
	}{
		{"ip matches", idtest.Request("192.0.2.9:5060", "carol"), `identify: header, ip, anonymous
  header     no match
  ip         matched: caller trunk
  anonymous  not reached
result: ip: caller trunk
`},
		{"header matches both", idtest.Request("127.0.0.1:5060", "alice", "X-Caller-Template", "subscriber;user=alice;b=2", "X-Callee-Template", "subscriber"), `identify: header, ip, anonymous
  header     matched: caller subscriber;b=2;user=alice, callee subscriber
  ip         not reached
  anonymous  not reached
result: header: caller subscriber;b=2;user=alice, callee subscriber
`},
		{"header rejects", idtest.Request("192.0.2.9:5060", "carol", "X-Caller-Template", "nosuch"), `identify: header, ip, anonymous
  header     rejected: identify header: 403 Unknown Template: select template: templates.conf:3: template-as-caller: unknown template "nosuch"
  ip         not reached
  anonymous  not reached
result: 403 Unknown Template
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, _ := identify.Describe(context.Background(), ch, tt.req, 404)
			if d := cmp.Diff(tt.want, r.String()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}

	noAnon := chainFor(t, "[sip]\nidentify = header\n")
	r, _, err := identify.Describe(context.Background(), noAnon, idtest.Request("127.0.0.1:5060", "x"), 404)
	if err == nil {
		t.Fatal("no error for an unmatched request")
	}
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"chain":["header"],"attempts":[{"identifier":"header","outcome":"no match"}],"status":404,"reason":"Not Found","error":"identify: no match (tried header)"}`
	if string(got) != want {
		t.Errorf("JSON:\n got %s\nwant %s", got, want)
	}
}
