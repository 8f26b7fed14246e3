package sdp

import (
	"fmt"
	"slices"
	"strings"

	table "github.com/sidecar-voip/sidecar/media/codecs"
)

// defaultCodecs is package media/codecs' default list, copied once: Negotiate and
// OfferFormats only read it (never changed, never returned).
var defaultCodecs = table.Default()

// Negotiate chooses, from an offer, the audio formats acceptable under codecs (canonical names
// in preference order), as an answerer does (RFC 3264 section 6.1): the result follows the
// order of codecs, keeps the offer's payload types and fmtp, and ends with the offer's
// telephone-event when there is one. Empty codecs means the default list of package
// media/codecs. It returns an error wrapping ErrNoCodec when no audio codec matches.
func Negotiate(offer *Description, codecs []string) ([]Format, error) {
	if offer.Audio < 0 {
		return nil, fmt.Errorf("%w: no usable audio stream (RTP/AVP, port > 0)", ErrNoCodec)
	}
	if len(codecs) == 0 {
		codecs = defaultCodecs
	}
	// The offer's formats chosen, by index (a name listed twice matches the same one), then
	// one allocation of the exact size: a session keeps the result.
	chosen := make([]int, 0, 16)
	for _, name := range codecs {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == TelephoneEvent {
			continue
		}
		for i, f := range offer.Formats {
			if f.Name == name {
				if !slices.Contains(chosen, i) {
					chosen = append(chosen, i)
				}
				break
			}
		}
	}
	if len(chosen) == 0 {
		return nil, fmt.Errorf("%w: offered %s, allowed %s", ErrNoCodec, names(offer.Formats), strings.Join(codecs, ","))
	}
	te, hasTE := telephoneEvent(offer.Formats, offer.Formats[chosen[0]].ClockRate)
	n := len(chosen)
	if hasTE {
		n++
	}
	out := make([]Format, len(chosen), n)
	for j, i := range chosen {
		out[j] = offer.Formats[i]
	}
	if hasTE {
		out = append(out, te)
	}
	return out, nil
}

// Select picks, from an answer to our offer, the formats we offered, in the answer's order, as
// an offerer does on receiving the answer. Payload types are the answer's.
func Select(answer *Description, offered []Format) ([]Format, error) {
	if answer.Audio < 0 {
		return nil, fmt.Errorf("%w: answer refused the audio stream", ErrNoCodec)
	}
	var out []Format
	for _, f := range answer.Formats {
		if f.Name == "" || f.Name == TelephoneEvent {
			continue
		}
		for _, o := range offered {
			if o.Name == f.Name {
				out = append(out, f)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: answer has %s", ErrNoCodec, names(answer.Formats))
	}
	if te, ok := telephoneEvent(answer.Formats, out[0].ClockRate); ok {
		out = append(out, te)
	}
	return out, nil
}

// OfferFormats returns the formats the sidecar offers for codecs (canonical names in
// preference order; empty means the default list of package media/codecs), with its own
// payload types, followed by telephone-event.
func OfferFormats(codecs []string) ([]Format, error) {
	if len(codecs) == 0 {
		codecs = defaultCodecs
	}
	var out []Format
	seen := map[string]bool{}
	for _, name := range codecs {
		name = strings.ToLower(strings.TrimSpace(name))
		c, ok := table.Lookup(name)
		if !ok || c.Name == TelephoneEvent || seen[c.Name] {
			continue
		}
		seen[c.Name] = true
		out = append(out, format(c))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: none of %s is known", ErrNoCodec, strings.Join(codecs, ","))
	}
	te, _ := Known(TelephoneEvent)
	return append(out, te), nil
}

// telephoneEvent finds the telephone-event format at rate, else at 8000 Hz.
func telephoneEvent(fs []Format, rate int) (Format, bool) {
	var fallback *Format
	for i, f := range fs {
		if f.Name != TelephoneEvent {
			continue
		}
		if f.ClockRate == rate {
			return f, true
		}
		if f.ClockRate == 8000 && fallback == nil {
			fallback = &fs[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return Format{}, false
}

func names(fs []Format) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s/%d", f.Encoding, f.ClockRate)
	}
	if b.Len() == 0 {
		return "nothing"
	}
	return b.String()
}
