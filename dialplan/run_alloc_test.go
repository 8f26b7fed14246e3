package dialplan

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/sidecar-voip/sidecar/request"
)

// answerStopPlan is the shape of the shipped echo test's run: Answer, then an application
// that keeps the call until it ends (here one that returns at once, as Echo does on hangup).
func answerStopPlan(t testing.TB) *Plan {
	t.Helper()
	reg := testRegistry(t)
	if err := reg.Register(App{Name: "Hold", Run: func(context.Context, *Call, []string) (Result, error) { return Ended(), nil }}); err != nil {
		t.Fatal(err)
	}
	p, err := LoadFS(fstest.MapFS{"extensions.conf": {Data: []byte("[default]\nexten => *43,1,Answer()\n same => n,Hold()\n")}}, ".", reg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunAllocs bounds the allocations of a two-step Run: its state, Call, Data, trace and
// logger attribute are one allocation (11 before they were), the rest the logger, the
// Answer step (package shallow) and the test channel.
func TestRunAllocs(t *testing.T) {
	p := answerStopPlan(t)
	req := request.Sample()
	ctx := context.Background()
	var trace Trace
	n := testing.AllocsPerRun(100, func() {
		tr, err := p.Run(ctx, newRecorder(req), "default", "*43", nil)
		if err != nil {
			t.Fatal(err)
		}
		trace = tr
	})
	if len(trace) != 2 || trace[0].App != "Answer" || trace[1].App != "Hold" {
		t.Fatalf("trace %+v, want Answer then Hold", trace)
	}
	if n > 8 {
		t.Errorf("Run of Answer, Hold: %v allocations, want <= 8", n)
	}
}

func BenchmarkRunAnswerHold(b *testing.B) {
	p := answerStopPlan(b)
	req := request.Sample()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Run(ctx, newRecorder(req), "default", "*43", nil); err != nil {
			b.Fatal(err)
		}
	}
}
