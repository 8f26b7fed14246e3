package standard

import (
	"context"
	"errors"
	"testing"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/identify/internal/idtest"
	"github.com/sidecar-voip/sidecar/internal/sipstatus"
)

// FuzzChain feeds arbitrary header values and From users through the full chain. Whatever
// comes in, the chain must either name only templates the set has, or reject with a 4xx/5xx
// *sipstatus.Error, or report no match; it must never let a bad header reach anonymous.
func FuzzChain(f *testing.F) {
	f.Add("subscriber;user=alice", "", "alice")
	f.Add("nosuch", "subscriber", "bob")
	f.Add("", "", "trunk")
	f.Add("sub scriber", ";;", "al ice")
	f.Add(`{{ .Header "X" }}`, "base", "")
	c, err := config.Parse("sidecar.ini", []byte("[sip]\nidentify = header, username, anonymous\n"))
	if err != nil {
		f.Fatal(err)
	}
	set := idtest.Set(f, idtest.Templates)
	ch, err := Chain(c, set)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, caller, callee, user string) {
		req := idtest.Request("127.0.0.1:5060", user, "X-Caller-Template", caller, "X-Callee-Template", callee)
		res, err := ch.Identify(context.Background(), req)
		if err != nil {
			var e *sipstatus.Error
			if !errors.As(err, &e) || e.Code < 400 || e.Code > 599 {
				t.Fatalf("error %v is not a 4xx/5xx rejection", err)
			}
			return
		}
		for _, name := range []string{res.Caller.Name, res.Callee.Name} {
			if name != "" && !set.Has(name) {
				t.Fatalf("result names template %q the set does not have", name)
			}
		}
		if res.Identifier == "anonymous" {
			// Only a request whose headers select nothing may reach anonymous.
			if cl, ce, err := set.Select(req); err != nil || cl.Name != "" || ce.Name != "" {
				t.Fatalf("request reached anonymous although header selection gave %q %q %v", cl.Name, ce.Name, err)
			}
		}
	})
}
