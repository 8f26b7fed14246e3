package sdp

import (
	"net/netip"
	"strconv"
	"strings"
)

// Local is the SDP the sidecar sends: an answer (Streams copied from the offer, Audio its
// accepted m-line) or an offer (Streams empty for a single audio m-line, or the session's
// m-lines so that a re-offer keeps their number).
type Local struct {
	// SessionID and Version fill the o= line; Version must grow whenever the content changes.
	SessionID, Version uint64
	// Addr is the advertised media address; Port the RTP port (RTCP is Port+1).
	Addr netip.Addr
	Port int
	// Formats are the accepted or offered payload formats, in preference order.
	Formats []Format
	// Direction is the audio direction.
	Direction Direction
	// Ptime is the packetization time in ms (0 omits a=ptime).
	Ptime int
	// Streams are the offer's m-lines for an answer: each is refused with port 0 except Audio.
	Streams []Stream
	// Audio is the index of the accepted audio m-line in Streams (answers only).
	Audio int
}

// Marshal writes the SDP body with CRLF line ends.
func (l *Local) Marshal() []byte {
	var b strings.Builder
	ipv := "IP4"
	if l.Addr.Is6() {
		ipv = "IP6"
	}
	addr := l.Addr.String()
	line := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
		b.WriteString("\r\n")
	}
	line("v=0")
	line("o=sidecar ", strconv.FormatUint(l.SessionID, 10), " ", strconv.FormatUint(l.Version, 10), " IN ", ipv, " ", addr)
	line("s=sidecar")
	line("c=IN ", ipv, " ", addr)
	line("t=0 0")
	if len(l.Streams) == 0 {
		l.audio(line)
		return []byte(b.String())
	}
	for i, s := range l.Streams {
		if i == l.Audio {
			l.audio(line)
			continue
		}
		formats := s.Formats
		if len(formats) == 0 {
			formats = []string{"0"}
		}
		line("m=", s.Media, " 0 ", s.Proto, " ", strings.Join(formats, " "))
	}
	return []byte(b.String())
}

func (l *Local) audio(line func(...string)) {
	pts := make([]string, len(l.Formats))
	for i, f := range l.Formats {
		pts[i] = strconv.Itoa(int(f.PT))
	}
	line("m=audio ", strconv.Itoa(l.Port), " RTP/AVP ", strings.Join(pts, " "))
	for _, f := range l.Formats {
		enc := f.Encoding + "/" + strconv.Itoa(f.ClockRate)
		if f.Channels > 1 {
			enc += "/" + strconv.Itoa(f.Channels)
		}
		line("a=rtpmap:", strconv.Itoa(int(f.PT)), " ", enc)
		if f.Fmtp != "" {
			line("a=fmtp:", strconv.Itoa(int(f.PT)), " ", f.Fmtp)
		}
	}
	if l.Ptime > 0 {
		line("a=ptime:", strconv.Itoa(l.Ptime))
	}
	dir := l.Direction
	if dir == "" {
		dir = SendRecv
	}
	line("a=", string(dir))
}
