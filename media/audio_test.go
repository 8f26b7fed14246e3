package media_test

import (
	"testing"

	"github.com/sidecar-voip/sidecar/media"
)

func TestIsDigit(t *testing.T) {
	for _, r := range "0123456789*#ABCDabcd" {
		if !media.IsDigit(r) {
			t.Errorf("IsDigit(%q) = false", r)
		}
	}
	for _, r := range "eEwW +-/xé" {
		if media.IsDigit(r) {
			t.Errorf("IsDigit(%q) = true", r)
		}
	}
}
