package main

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/sidecar-voip/sidecar/admin"
	"github.com/sidecar-voip/sidecar/push"
	"github.com/sidecar-voip/sidecar/routing"
)

// pageOptions fills the status page's sources (admin/page.go) from the running service: the
// live calls, the loaded templates with their file:line, and render over the same bundle the
// SIP service routes with (routing.Render, PINs masked), as "sidecar render" prints it.
// The bundle is the running one (pushed templates included). Reload and push errors stay
// nil: they are not reported there yet.
func pageOptions(opts *admin.Options, calls admin.CallSource, live admin.BundleSource) {
	opts.Calls = calls
	opts.Templates = func() []admin.TemplateInfo {
		pos := live.Current().Templates().Positions()
		out := make([]admin.TemplateInfo, 0, len(pos))
		for _, p := range pos {
			out = append(out, admin.TemplateInfo{Name: p.Name, Pos: p.Pos.String()})
		}
		return out
	}
	opts.Render = func(ctx context.Context, raw []byte, src netip.AddrPort, transport string) (any, error) {
		res, err := routing.Render(ctx, live.Current(), routing.RenderInput{Raw: raw, Source: src, Transport: transport})
		if res == nil {
			return nil, err // not a typed nil: the page shows the error alone
		}
		return res, err
	}
}

// changeErrors is the status page's list of recent refused reloads and pushes, newest first.
type changeErrors struct {
	reload *routing.Reloader // nil: no reloads
	push   *push.Store       // nil: no pushes
}

// RecentErrors merges the reloader's and the push store's recent failures, newest first.
func (c changeErrors) RecentErrors() []admin.Event {
	var out []admin.Event
	if c.reload != nil {
		for _, f := range c.reload.Stats().Recent {
			out = append(out, admin.Event{Time: f.Time, Kind: "reload",
				Message: f.Reason + ": " + strings.Join(f.Errors, "; ")})
		}
	}
	if c.push != nil {
		for _, f := range c.push.RecentFailures() {
			msg := f.Err
			if f.Name != "" {
				msg = f.Name + ": " + msg
			}
			out = append(out, admin.Event{Time: f.Time, Kind: "push", Message: msg})
		}
	}
	slices.SortStableFunc(out, func(a, b admin.Event) int { return b.Time.Compare(a.Time) })
	return out
}
