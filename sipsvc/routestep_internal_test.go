package sipsvc

import (
	"context"
	"errors"
	"testing"

	"github.com/sidecar-voip/sidecar/request"
	"github.com/sidecar-voip/sidecar/routing"
)

// stepRouter answers every Route with its routing and error, and remembers the request.
type stepRouter struct {
	rt  routing.Routing
	err error
	got *request.Request
}

func (r *stepRouter) Route(_ context.Context, req *request.Request) (routing.Routing, error) {
	r.got = req
	return r.rt, r.err
}

// A route step runs its own routing (its run is bound to itself, not to the step it was
// made as for another), and release leaves nothing of the call in it: a step reused by
// the next call never shows the previous call's request, result or error.
func TestRouteStepRelease(t *testing.T) {
	errRoute := errors.New("no route")
	for i := range 3 {
		st := routeSteps.Get().(*routeStep)
		if st.router != nil || st.ctx != nil || st.req != nil || st.err != nil || st.rt.Context != "" {
			t.Fatalf("step %d from the pool still holds a call: %+v", i, st)
		}
		r := &stepRouter{rt: routing.Routing{Context: "ctx", Exten: "100"}, err: errRoute}
		req := &request.Request{}
		st.router, st.ctx, st.req = r, context.Background(), req
		st.run()
		if r.got != req || st.rt.Context != "ctx" || st.rt.Exten != "100" || !errors.Is(st.err, errRoute) {
			t.Fatalf("step %d: routed %p with %+v, %v; want %p, ctx/100, %v", i, r.got, st.rt, st.err, req, errRoute)
		}
		st.release()
		if st.router != nil || st.ctx != nil || st.req != nil || st.err != nil || st.rt.Context != "" || st.rt.Exten != "" || st.run == nil {
			t.Fatalf("step %d after release: %+v", i, st)
		}
	}
}
