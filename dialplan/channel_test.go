package dialplan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// recorder is a test double of Channel: the real implementation is the SIP service's job
// (package sipsvc), so the dialplan's tests record what the applications asked for instead.
// It enforces the contract's rules (no Hangup before answer, one final response) so a
// misbehaving app fails the test.
type recorder struct {
	mu             sync.Mutex
	req            *request.Request
	caller, callee *profile.Profile
	answered       bool
	ended          bool
	events         []string
	progress       chan int // receives each Progress code when non-nil
}

func newRecorder(req *request.Request) *recorder {
	if req == nil {
		req = request.Sample()
	}
	return &recorder{req: req}
}

func (r *recorder) Request() *request.Request { return r.req }
func (r *recorder) Caller() *profile.Profile  { return r.caller }
func (r *recorder) Callee() *profile.Profile  { return r.callee }
func (r *recorder) Answered() bool            { r.mu.Lock(); defer r.mu.Unlock(); return r.answered }
func (r *recorder) record(format string, a ...any) {
	r.events = append(r.events, fmt.Sprintf(format, a...))
}

func (r *recorder) Progress(ctx context.Context, code int) error {
	r.mu.Lock()
	r.record("progress %d", code)
	ch := r.progress
	r.mu.Unlock()
	if ch != nil {
		ch <- code
	}
	return ctx.Err()
}

func (r *recorder) Answer(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return errors.New("answer: call ended")
	}
	if !r.answered {
		r.record("answer")
	}
	r.answered = true
	return ctx.Err()
}

// run runs the call as the SIP service does: Plan.Run, then, for a call still unanswered
// and not cancelled, the final answer written from Run's error as sipsvc writes it
// (sipstatus.Answer; 603 when Run returned nil), recorded as "reject CODE REASON" (with
// " retry-after=N") or "redirect CONTACT". It returns Run's error.
func (r *recorder) run(ctx context.Context, p *Plan, context, exten string, log *slog.Logger) (Trace, error) {
	trace, err := p.Run(ctx, r, context, exten, log)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.answered || r.ended || ctx.Err() != nil {
		return trace, err
	}
	r.ended = true
	a := sipstatus.Answer(err)
	if a == nil {
		a = sipstatus.New(sipstatus.DeclineCode, nil)
	}
	if a.Contact != "" {
		r.record("redirect %s", a.Contact)
		return trace, err
	}
	s := fmt.Sprintf("reject %d %s", a.Code, a.Reason)
	if a.RetryAfter > 0 {
		s += fmt.Sprintf(" retry-after=%d", a.RetryAfter)
	}
	r.events = append(r.events, s)
	return trace, err
}

func (r *recorder) Hangup(_ context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.answered || r.ended {
		return errors.New("hangup: call not answered or already ended")
	}
	r.ended = true
	r.record("bye")
	return nil
}

func (r *recorder) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, "\n")
}

// Media: the recorder carries no media.
func (r *recorder) Media() media.Session { return nil }

var _ Channel = (*recorder)(nil)
