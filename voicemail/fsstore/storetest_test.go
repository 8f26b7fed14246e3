package fsstore

import (
	"testing"

	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

// The shared conformance suite, on a directory; each open is another Store on it.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() voicemail.Store {
		dir := t.TempDir()
		return func() voicemail.Store { return open(t, dir) }
	})
}
