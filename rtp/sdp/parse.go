package sdp

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"

	"github.com/sidecar-voip/sidecar/media/codecs"
)

// ErrMalformed reports an SDP body that cannot be parsed or lacks what an audio call needs.
var ErrMalformed = errors.New("malformed sdp")

// ErrNoCodec reports an offer or answer without an audio format acceptable to the party.
var ErrNoCodec = errors.New("no acceptable codec")

// maxSize bounds the SDP bodies the parser accepts.
const maxSize = 16 << 10

// Direction is an SDP media direction attribute.
type Direction string

// The SDP direction attributes (RFC 3264 section 5.1).
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// Reverse returns the direction an answerer uses for an offer's direction.
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// Sends reports whether the party with this direction sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the party with this direction receives media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Stream is one m-line as written, kept so an answer can refuse it in place with port 0.
type Stream struct {
	Media   string
	Port    int
	Proto   string
	Formats []string
}

// Description is the audio-relevant content of a peer's SDP.
type Description struct {
	// Streams are all m-lines, in order.
	Streams []Stream
	// Audio is the index in Streams of the first usable audio m-line (RTP/AVP, port not 0),
	// or -1 when there is none.
	Audio int
	// Addr is the audio connection address (media level, else session level). The
	// unspecified address (c=IN IP4 0.0.0.0) means the peer holds the call.
	Addr netip.Addr
	// Port is the audio RTP port.
	Port int
	// Formats are the audio m-line's payload formats, in the peer's order.
	Formats []Format
	// Direction is the audio direction (media level, else session level, else sendrecv).
	Direction Direction
	// Ptime is the a=ptime value in milliseconds, 0 when absent.
	Ptime int
	// RTCP is where the peer receives RTCP when its SDP says so with a=rtcp (RFC 3605); the
	// zero value (invalid) means the RTP port + 1 at Addr.
	RTCP netip.AddrPort
}

// Hold reports whether the description puts the call on hold: a direction other than
// sendrecv, or the RFC 2543 connection address 0.0.0.0.
func (d *Description) Hold() bool {
	return d.Direction != SendRecv || !d.Addr.IsValid() || d.Addr.IsUnspecified()
}

// AddrPort returns the address the peer receives audio on.
func (d *Description) AddrPort() netip.AddrPort { return netip.AddrPortFrom(d.Addr, uint16(d.Port)) }

// Parse reads an SDP body. Any problem is an error wrapping ErrMalformed; Parse never panics.
// The common shape of an offer is read by a hand parser (parseFast) that allocates only what
// the Description keeps; anything else goes through pion's parser, which gives the same
// Description for what both read.
func Parse(body []byte) (*Description, error) {
	d := new(Description)
	if err := ParseInto(body, d); err != nil {
		return nil, err
	}
	return d, nil
}

// ParseInto is Parse into a Description the caller provides (one on its stack, when only
// parts of it are kept: the streams and formats are allocated, the Description itself not).
// On error *d is the zero Description.
func ParseInto(body []byte, d *Description) (err error) {
	defer func() {
		if r := recover(); r != nil {
			*d, err = Description{}, fmt.Errorf("%w: parser panic: %v", ErrMalformed, r)
		}
	}()
	if len(body) > maxSize {
		*d = Description{}
		return fmt.Errorf("%w: %d bytes is over %d", ErrMalformed, len(body), maxSize)
	}
	if parseFastInto(body, d) {
		return nil
	}
	pd, err := parsePion(body)
	if err != nil {
		*d = Description{}
		return err
	}
	*d = *pd
	return nil
}

// parsePion parses body with pion's SDP parser: the reference for every body, and the parser
// of those parseFast leaves to it (unusual line orders or spellings, and every error).
func parsePion(body []byte) (*Description, error) {
	var s psdp.SessionDescription
	if err := s.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	d := &Description{Audio: -1}
	for i, m := range s.MediaDescriptions {
		st := Stream{Media: m.MediaName.Media, Port: m.MediaName.Port.Value, Proto: strings.Join(m.MediaName.Protos, "/"), Formats: m.MediaName.Formats}
		d.Streams = append(d.Streams, st)
		if d.Audio >= 0 || st.Media != "audio" || st.Port == 0 || st.Proto != "RTP/AVP" {
			continue
		}
		if err := d.readAudio(&s, m); err != nil {
			return nil, fmt.Errorf("%w: m-line %d: %v", ErrMalformed, i+1, err)
		}
		d.Audio = i
	}
	if len(d.Streams) == 0 {
		return nil, fmt.Errorf("%w: no m-line", ErrMalformed)
	}
	return d, nil
}

func (d *Description) readAudio(s *psdp.SessionDescription, m *psdp.MediaDescription) error {
	if m.MediaName.Port.Value < 1 || m.MediaName.Port.Value > 65535 {
		return fmt.Errorf("port %d out of range", m.MediaName.Port.Value)
	}
	d.Port = m.MediaName.Port.Value
	ci := m.ConnectionInformation
	if ci == nil {
		ci = s.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return errors.New("no connection address (c=)")
	}
	if ci.NetworkType != "IN" || (ci.AddressType != "IP4" && ci.AddressType != "IP6") {
		return fmt.Errorf("connection type %q %q unsupported", ci.NetworkType, ci.AddressType)
	}
	addr, err := netip.ParseAddr(ci.Address.Address)
	if err != nil {
		return fmt.Errorf("connection address %q is not an IP address", ci.Address.Address)
	}
	d.Addr = addr.Unmap()
	d.Direction = SendRecv
	for _, a := range s.Attributes {
		if dir, ok := direction(a.Key); ok {
			d.Direction = dir
		}
	}
	rtpmap := map[uint8]Format{}
	fmtp := map[uint8]string{}
	for _, a := range m.Attributes {
		if dir, ok := direction(a.Key); ok {
			d.Direction = dir
			continue
		}
		switch a.Key {
		case "rtpmap":
			f, err := parseRtpmap(a.Value)
			if err != nil {
				return err
			}
			rtpmap[f.PT] = f
		case "fmtp":
			pt, rest, _ := strings.Cut(a.Value, " ")
			n, err := strconv.ParseUint(pt, 10, 7)
			if err != nil {
				return fmt.Errorf("a=fmtp:%s: bad payload type", a.Value)
			}
			fmtp[uint8(n)] = strings.TrimSpace(rest)
		case "rtcp":
			ap, err := parseRTCP(a.Value, d.Addr)
			if err != nil {
				return err
			}
			d.RTCP = ap
		case "ptime":
			n, err := strconv.Atoi(strings.TrimSpace(a.Value))
			if err != nil || n < 1 || n > 1000 {
				return fmt.Errorf("a=ptime:%s: not a duration in ms", a.Value)
			}
			d.Ptime = n
		}
	}
	for _, s := range m.MediaName.Formats {
		n, err := strconv.ParseUint(s, 10, 7)
		if err != nil {
			return fmt.Errorf("format %q is not a payload type", s)
		}
		pt := uint8(n)
		f, ok := rtpmap[pt]
		if !ok {
			c, static := codecs.Static(pt)
			if !static {
				continue // a dynamic payload type without rtpmap cannot be used
			}
			f = format(c)
		}
		f.Fmtp = fmtp[pt]
		d.Formats = append(d.Formats, f)
	}
	return nil
}

// parseRTCP reads an a=rtcp value, "53020" or "53020 IN IP4 192.0.2.4" (RFC 3605 section
// 2.1); the address defaults to the media's.
func parseRTCP(v string, addr netip.Addr) (netip.AddrPort, error) {
	f := strings.Fields(v)
	if len(f) != 1 && len(f) != 4 {
		return netip.AddrPort{}, fmt.Errorf("a=rtcp:%s: want port [IN IP4|IP6 address]", v)
	}
	port, err := strconv.Atoi(f[0])
	if err != nil || port < 1 || port > 65535 {
		return netip.AddrPort{}, fmt.Errorf("a=rtcp:%s: bad port", v)
	}
	if len(f) == 4 {
		a, err := netip.ParseAddr(f[3])
		if err != nil || f[1] != "IN" || (f[2] != "IP4" && f[2] != "IP6") {
			return netip.AddrPort{}, fmt.Errorf("a=rtcp:%s: bad address", v)
		}
		addr = a.Unmap()
	}
	if !addr.IsValid() || addr.IsUnspecified() {
		return netip.AddrPort{}, nil
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

func direction(key string) (Direction, bool) {
	switch Direction(key) {
	case SendRecv, SendOnly, RecvOnly, Inactive:
		return Direction(key), true
	}
	return "", false
}

// parseRtpmap reads "96 opus/48000/2".
func parseRtpmap(v string) (Format, error) {
	pt, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	n, err := strconv.ParseUint(pt, 10, 7)
	if !ok || err != nil {
		return Format{}, fmt.Errorf("a=rtpmap:%s: bad payload type", v)
	}
	parts := strings.Split(strings.TrimSpace(rest), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return Format{}, fmt.Errorf("a=rtpmap:%s: want encoding/rate[/channels]", v)
	}
	rate, err := strconv.Atoi(parts[1])
	if err != nil || rate <= 0 || rate > 1000000 {
		return Format{}, fmt.Errorf("a=rtpmap:%s: bad clock rate", v)
	}
	ch := 1
	if len(parts) == 3 {
		ch, err = strconv.Atoi(parts[2])
		if err != nil || ch < 1 || ch > 8 {
			return Format{}, fmt.Errorf("a=rtpmap:%s: bad channel count", v)
		}
	}
	return Format{PT: uint8(n), Name: canonical(parts[0], rate, ch), Encoding: parts[0], ClockRate: rate, Channels: ch}, nil
}
