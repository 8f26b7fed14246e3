package profile

import "github.com/sidecar-voip/sidecar/internal/dialect"

// TemplatePos is a concrete template and where its section header was first written.
type TemplatePos struct {
	Name string
	Pos  dialect.Pos
}

// Positions returns every concrete template with its position, in name order, for the admin
// status page.
func (s *Set) Positions() []TemplatePos {
	out := make([]TemplatePos, 0, len(s.names))
	for _, name := range s.names {
		out = append(out, TemplatePos{Name: name, Pos: s.byName[name].pos})
	}
	return out
}
