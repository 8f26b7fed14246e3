package app

import "github.com/sidecar-voip/sidecar/dialplan"

// NewRegistry returns the one registry of every dialplan application the sidecar offers:
// the signalling applications of dialplan and the media applications of this package (later
// features register theirs here too). serve, check and render load the dialplan against it,
// so a dialplan that checks clean is one serve accepts.
func NewRegistry(deps Deps) (*dialplan.Registry, error) {
	reg := dialplan.NewRegistry()
	if err := dialplan.RegisterSignalling(reg); err != nil {
		return nil, err
	}
	if err := Register(reg, deps); err != nil {
		return nil, err
	}
	return reg, nil
}
