package sipsvc

import (
	"fmt"

	"github.com/sidecar-voip/sidecar/config"
)

// liveSettings are the [sip] settings a reload changes while the service runs (Apply): the
// trust filter on the sockets and the handlers' trust check read them for every datagram,
// connection and request, the INVITE handler for every unmatched call. They are swapped
// whole behind an atomic pointer, never changed in place.
type liveSettings struct {
	trusted config.TrustList
	// untrusted is "reject" or "drop"; reject is untrusted == "reject" (the filter's test).
	untrusted string
	reject    bool
	noMatch   int
}

func newLiveSettings(c *config.SIP) *liveSettings {
	return &liveSettings{trusted: c.Trusted, untrusted: c.Untrusted, reject: c.Untrusted != "drop",
		noMatch: c.NoMatchCode}
}

// settings returns the live settings in use.
func (s *Server) settings() *liveSettings { return s.live.Load() }

// Apply makes the [sip] settings of cfg that may change live current: trusted, untrusted,
// max-calls, max-cps and no-match. Every datagram, connection and request after it is judged by the
// new trust list, and every new INVITE by the new limit (calls already up are never cut;
// past a lowered limit new calls get 503 until enough end). The other [sip] settings are
// bound at New (listeners, TLS files, user-agent, timeouts): config.RestartNeeded names the
// ones that changed. A hot reload calls Apply after it swaps the routing bundle.
func (s *Server) Apply(cfg *config.Config) error {
	if cfg == nil || cfg.SIP.MaxCalls <= 0 {
		return fmt.Errorf("apply sip settings: max-calls must be positive")
	}
	s.live.Store(newLiveSettings(&cfg.SIP))
	s.limit.max.Store(int64(cfg.SIP.MaxCalls))
	s.admit.setRate(cfg.SIP.MaxCPS)
	s.admit.setMaxDelay(cfg.SIP.MaxQueueDelay)
	return nil
}
