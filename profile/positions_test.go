package profile_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/profile"
)

// Positions lists the concrete templates in name order with the file and line of their
// section header; abstract templates are left out.
func TestPositions(t *testing.T) {
	s := loadSet(t, map[string]string{
		"a.conf": "; comment\n[base](!)\ncontext = x\n\n[zeta](base)\n",
		"b.conf": "[alpha]\ncontext = y\n",
	})
	want := []profile.TemplatePos{
		{Name: "alpha", Pos: dialect.Pos{File: "b.conf", Line: 1}},
		{Name: "zeta", Pos: dialect.Pos{File: "a.conf", Line: 5}},
	}
	if diff := cmp.Diff(want, s.Positions()); diff != "" {
		t.Errorf("Positions (-want +got):\n%s", diff)
	}
}
