package dialplan

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/profile"
)

// TestMediaFor: codecs and DTMF mode come from the caller's profile, else the callee's, else
// the plane's defaults (empty); each field on its own, so a caller profile without codecs
// still takes the callee's.
func TestMediaFor(t *testing.T) {
	alice := &profile.Profile{Codecs: []string{"g722", "pcmu"}, DTMFMode: profile.DTMFInfo}
	bob := &profile.Profile{Codecs: []string{"pcma"}, DTMFMode: profile.DTMFInband}
	bare := &profile.Profile{}
	for _, tc := range []struct {
		name           string
		caller, callee *profile.Profile
		codecs         []string
		dtmf           string
	}{
		{"both", alice, bob, []string{"g722", "pcmu"}, "info"},
		{"caller only", alice, nil, []string{"g722", "pcmu"}, "info"},
		{"callee only", nil, bob, []string{"pcma"}, "inband"},
		{"neither", nil, nil, nil, ""},
		{"caller without values", bare, bob, []string{"pcma"}, "inband"},
	} {
		p := MediaFor(tc.caller, tc.callee)
		if !slices.Equal(p.Codecs, tc.codecs) || p.DTMFMode != tc.dtmf || p.CallID != "" || p.Offer != nil {
			t.Errorf("%s: MediaFor = %+v, want codecs %v dtmf %q", tc.name, p, tc.codecs, tc.dtmf)
		}
	}
}

// mediaChannel is a recorder whose Answer opens a media session.
type mediaChannel struct {
	*recorder
	sess     media.Session
	answered media.Session // what Answer installs
}

func (m *mediaChannel) Answer(ctx context.Context) error {
	if err := m.recorder.Answer(ctx); err != nil {
		return err
	}
	m.sess = m.answered
	return nil
}

func (m *mediaChannel) Media() media.Session { return m.sess }

// session is a media.Session that only has an identity.
type session struct{ media.Session }

// TestCallAudio: Audio answers first only when asked, returns the channel's session, and
// reports ErrNoMedia for a call without one.
func TestCallAudio(t *testing.T) {
	s := &session{}
	ch := &mediaChannel{recorder: newRecorder(nil), answered: s}
	c := &Call{Channel: ch}
	if _, err := c.Audio(context.Background(), false); !errors.Is(err, ErrNoMedia) {
		t.Errorf("Audio without answer: %v, want ErrNoMedia", err)
	}
	if ch.Answered() {
		t.Error("Audio(answer=false) answered the call")
	}
	a, err := c.Audio(context.Background(), true)
	if err != nil || a != media.Audio(s) || !ch.Answered() {
		t.Errorf("Audio(answer=true) = %v, %v; answered %v", a, err, ch.Answered())
	}

	// Answered without media (no media plane): no second answer, ErrNoMedia.
	none := &mediaChannel{recorder: newRecorder(nil)}
	c = &Call{Channel: none}
	if _, err := c.Audio(context.Background(), true); !errors.Is(err, ErrNoMedia) {
		t.Errorf("Audio on a call without a media plane: %v, want ErrNoMedia", err)
	}

	// A failing answer is reported as such.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c = &Call{Channel: &mediaChannel{recorder: newRecorder(nil), answered: s}}
	if _, err := c.Audio(ctx, true); !errors.Is(err, context.Canceled) {
		t.Errorf("Audio with a failing answer: %v", err)
	}
}
