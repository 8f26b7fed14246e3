package rtp

import (
	"github.com/sidecar-voip/sidecar/media"
	"github.com/sidecar-voip/sidecar/rtp/codec"
	"github.com/sidecar-voip/sidecar/rtp/dtmf"
)

// inband decodes the peer's audio for the Goertzel DTMF detector; it exists only while the
// session's DTMF mode is "inband", and only the read loop touches it.
type inband struct {
	pt  uint8
	dec codec.Decoder
	det *dtmf.Detector
	pcm []int16
}

// detectInband runs the detector over one audio packet when the mode asks for it.
func (s *Session) detectInband(pt uint8, payload []byte, r *route) {
	if *s.dtmfMode.Load() != string(media.SourceInband) {
		s.inband = nil
		return
	}
	if s.inband == nil || s.inband.pt != pt {
		s.inband = nil
		for _, f := range r.formats {
			if f.PT != pt {
				continue
			}
			if c, ok := codec.Lookup(f.Name); ok {
				s.inband = &inband{pt: pt, dec: c.NewDecoder(), det: dtmf.NewDetector(c.SampleRate)}
			}
		}
		if s.inband == nil {
			return // a passthrough codec: nothing to detect on
		}
	}
	in := s.inband
	in.pcm = in.dec.Decode(in.pcm[:0], payload)
	in.det.Write(in.pcm, func(d rune) {
		s.deliver(media.Digit{Digit: d, Source: media.SourceInband})
	})
}
