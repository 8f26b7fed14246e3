package sipsvc_test

import (
	"strings"
	"testing"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

func newServer(cfg *config.Config) (*sipsvc.Server, error) {
	return sipsvc.New(sipsvc.Options{Config: cfg})
}

// New refuses configurations it cannot serve, with a clear message.
func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*config.Config)
		want   string
	}{
		{"nil config", nil, "nil config"},
		{"max-calls", func(c *config.Config) { c.SIP.MaxCalls = 0 }, "max-calls 0"},
		{"no listener", func(c *config.Config) { c.SIP.Listen = nil }, "no listen address"},
		{"tls without cert", func(c *config.Config) {
			c.SIP.Listen = []config.Listen{{Transport: "tls", Addr: c.SIP.Listen[0].Addr}}
		}, "tls-cert"},
		{"tls bad cert", func(c *config.Config) {
			c.SIP.Listen = []config.Listen{{Transport: "tls", Addr: c.SIP.Listen[0].Addr}}
			c.SIP.TLSCert, c.SIP.TLSKey = "/nonexistent/cert.pem", "/nonexistent/key.pem"
		}, "load tls certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg *config.Config
			if tc.mutate != nil {
				cfg = config.Default()
				tc.mutate(cfg)
			}
			_, err := newServer(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
