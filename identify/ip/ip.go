// Package ip is the "ip" identifier: the caller template follows from the request's source
// address, through the [identify] ip rules. It is for trunks and other servers that send
// calls through Kamailio without naming a template.
//
// The longest matching prefix wins; at equal length a rule with a port beats one without;
// remaining ties go to the rule written first. The identifier sets the caller template only
// (without parameters); with no matching rule it passes (identify.ErrNoMatch). Every rule's
// template must exist when the chain is built.
package ip

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// Name is the identifier's name in [sip] identify.
const Name = "ip"

// IP is the ip identifier.
type IP struct {
	rules []config.IPRule // most specific first
}

// New builds the ip identifier from deps.Config.IP; it is an identify.Factory. It fails when
// there are no rules or a rule names a template the set does not have.
func New(deps identify.Deps) (identify.Identifier, error) {
	if deps.Templates == nil {
		return nil, errors.New("no templates")
	}
	if len(deps.Config.IP) == 0 {
		return nil, errors.New("no [identify] ip rules")
	}
	var errs []error
	for _, r := range deps.Config.IP {
		if !r.Prefix.IsValid() {
			errs = append(errs, fmt.Errorf("[identify] ip %q: no address", r.String()))
		} else if !deps.Templates.Has(r.Template) {
			errs = append(errs, fmt.Errorf("[identify] ip %q: %w %q", r.String(), profile.ErrUnknownTemplate, r.Template))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &IP{rules: order(deps.Config.IP)}, nil
}

// order sorts rules most specific first, keeping the written order among equals.
func order(rules []config.IPRule) []config.IPRule {
	out := slices.Clone(rules)
	for i := range out {
		out[i].Prefix = out[i].Prefix.Masked()
	}
	slices.SortStableFunc(out, func(a, b config.IPRule) int {
		if c := cmp.Compare(b.Prefix.Bits(), a.Prefix.Bits()); c != 0 {
			return c
		}
		return cmp.Compare(portRank(a), portRank(b))
	})
	return out
}

func portRank(r config.IPRule) int {
	if r.Port != 0 {
		return 0
	}
	return 1
}

// Name returns "ip".
func (i *IP) Name() string { return Name }

// Identify matches the request's source address against the rules.
func (i *IP) Identify(_ context.Context, req *request.Request) (identify.Result, error) {
	r, ok := i.Lookup(netip.AddrPortFrom(req.Source.IP, uint16(req.Source.Port)))
	if !ok {
		return identify.Result{}, identify.ErrNoMatch
	}
	return identify.Result{Caller: profile.Match{Name: r.Template}}, nil
}

// Lookup returns the rule that decides src, if any. An IPv4-mapped IPv6 source is matched as
// IPv4.
func (i *IP) Lookup(src netip.AddrPort) (config.IPRule, bool) {
	a := src.Addr().Unmap().WithZone("")
	if !a.IsValid() {
		return config.IPRule{}, false
	}
	for _, r := range i.rules {
		if r.Prefix.Contains(a) && (r.Port == 0 || r.Port == int(src.Port())) {
			return r, true
		}
	}
	return config.IPRule{}, false
}

var _ identify.Identifier = (*IP)(nil)
