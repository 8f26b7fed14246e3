package identify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sidecar-voip/sidecar/internal/sipstatus"
	"github.com/sidecar-voip/sidecar/request"
)

// Chain runs identifiers in order; the first that matches wins. A Chain is immutable and safe
// for concurrent use.
type Chain struct {
	ids []Identifier
}

// NewChain returns a chain of ids in the order given. Registry.Chain is the usual way to get
// one from the configuration.
func NewChain(ids ...Identifier) *Chain {
	return &Chain{ids: append([]Identifier(nil), ids...)}
}

// Names returns the names of the chain's identifiers, in order.
func (c *Chain) Names() []string {
	out := make([]string, len(c.ids))
	for i, id := range c.ids {
		out[i] = id.Name()
	}
	return out
}

// Identify asks each identifier in turn. It returns the first match, with Result.Identifier
// set; or, when an identifier rejects the request, that identifier's name in the Result and
// an error wrapping a *sipstatus.Error (an identifier's plain error or panic becomes 500);
// or, when none matched, an error wrapping ErrNoMatch. A cancelled ctx stops the chain with
// ctx's error. Answer(err, noMatch) is the error to answer; its text is one log line.
func (c *Chain) Identify(ctx context.Context, req *request.Request) (Result, error) {
	res, _, err := c.run(ctx, req, nil)
	return res, err
}

// Attempt is what one identifier of the chain did with a request, for "sidecar render".
type Attempt struct {
	// Identifier is the identifier's name.
	Identifier string
	// Outcome is "matched", "no match", "rejected" or "not reached".
	Outcome string
	// Result is the match, when Outcome is "matched".
	Result Result
	// Err is the reason for "no match" (when the identifier gave one) and "rejected".
	Err error
}

// Outcomes of an Attempt.
const (
	OutcomeMatched    = "matched"
	OutcomeNoMatch    = "no match"
	OutcomeRejected   = "rejected"
	OutcomeNotReached = "not reached"
)

// Trace runs the chain like Identify and also returns what every identifier did, including
// the ones not reached. It is for tools ("sidecar render"), not the call path.
func (c *Chain) Trace(ctx context.Context, req *request.Request) ([]Attempt, Result, error) {
	attempts := make([]Attempt, 0, len(c.ids))
	res, n, err := c.run(ctx, req, &attempts)
	for _, id := range c.ids[n:] {
		attempts = append(attempts, Attempt{Identifier: id.Name(), Outcome: OutcomeNotReached})
	}
	return attempts, res, err
}

// run runs the chain and returns the number of identifiers that ran.
func (c *Chain) run(ctx context.Context, req *request.Request, trace *[]Attempt) (Result, int, error) {
	note := func(a Attempt) {
		if trace != nil {
			*trace = append(*trace, a)
		}
	}
	for i, id := range c.ids {
		if err := ctx.Err(); err != nil {
			return Result{}, i, fmt.Errorf("identify: %w", err)
		}
		name := id.Name()
		res, err := safeIdentify(ctx, id, req)
		switch {
		case err == nil:
			res.Identifier = name
			note(Attempt{Identifier: name, Outcome: OutcomeMatched, Result: res})
			return res, i + 1, nil
		case errors.Is(err, ErrNoMatch):
			a := Attempt{Identifier: name, Outcome: OutcomeNoMatch}
			if err != ErrNoMatch {
				a.Err = err
			}
			note(a)
			continue
		default:
			var e *sipstatus.Error
			if !errors.As(err, &e) {
				err = sipstatus.New(500, err)
			}
			err = fmt.Errorf("identify %s: %w", name, err)
			note(Attempt{Identifier: name, Outcome: OutcomeRejected, Err: err})
			return Result{Identifier: name}, i + 1, err
		}
	}
	return Result{}, len(c.ids), fmt.Errorf("identify: %w (tried %s)", ErrNoMatch, strings.Join(c.Names(), ", "))
}

// safeIdentify calls id.Identify, turning a panic into a 500 rejection.
func safeIdentify(ctx context.Context, id Identifier, req *request.Request) (res Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = Result{}, panicError(id.Name(), v)
		}
	}()
	return id.Identify(ctx, req)
}
