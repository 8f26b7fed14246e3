package sipsvc_test

import (
	"context"
	"testing"

	"github.com/sidecar-voip/sidecar/dialplan"
)

// registerTestApps adds the applications the test dialplan uses besides the signalling
// ones: answering (the media apps that answer belong to another package), waiting for the
// call to end, and panicking.
func registerTestApps(t testing.TB, reg *dialplan.Registry) {
	t.Helper()
	apps := []dialplan.App{
		{Name: "TestAnswer", Run: func(ctx context.Context, c *dialplan.Call, _ []string) (dialplan.Result, error) {
			return dialplan.Next(), c.Channel.Answer(ctx)
		}},
		{Name: "TestWait", Run: func(ctx context.Context, c *dialplan.Call, _ []string) (dialplan.Result, error) {
			<-ctx.Done()
			return dialplan.Ended(), nil
		}},
		{Name: "TestPanic", Run: func(ctx context.Context, c *dialplan.Call, _ []string) (dialplan.Result, error) {
			panic("test panic")
		}},
	}
	for _, a := range apps {
		a.MaxArgs = -1
		if err := reg.Register(a); err != nil {
			t.Fatal(err)
		}
	}
}
