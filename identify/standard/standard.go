// Package standard registers the identifiers that ship with the sidecar: header, ip, username
// and anonymous. It lives apart from package identify because it imports every identifier,
// and every identifier imports identify.
package standard

import (
	"fmt"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/identify"
	"github.com/sidecar-voip/sidecar/identify/anonymous"
	"github.com/sidecar-voip/sidecar/identify/header"
	"github.com/sidecar-voip/sidecar/identify/ip"
	"github.com/sidecar-voip/sidecar/identify/username"
)

// Registry returns a new Registry holding the four shipped identifiers, in the order
// config.Identifiers lists them.
func Registry() *identify.Registry {
	r := identify.NewRegistry()
	for _, e := range []struct {
		name string
		f    identify.Factory
	}{
		{header.Name, header.New},
		{ip.Name, ip.New},
		{username.Name, username.New},
		{anonymous.Name, anonymous.New},
	} {
		if err := r.Add(e.name, e.f); err != nil {
			panic(fmt.Sprintf("standard: %v", err)) // a programming error: names are constants
		}
	}
	return r
}

// Chain builds the chain [sip] identify configures, over a compiled template set (a
// *profile.Set). Build a new chain whenever the templates are reloaded.
func Chain(c *config.Config, templates identify.Templates) (*identify.Chain, error) {
	return Registry().Chain(c.SIP.Identify, identify.Deps{Templates: templates, Config: c.Identify})
}
