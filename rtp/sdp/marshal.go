package sdp

import (
	"bytes"
	"net/netip"
	"strconv"
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

// Marshal writes the SDP body with CRLF line ends. It is written on the stack and copied
// once to the heap, so that the body a session keeps has no spare capacity.
func (l *Local) Marshal() []byte {
	var buf [512]byte
	return bytes.Clone(l.AppendTo(buf[:0]))
}

// AppendTo appends the SDP body (Marshal's bytes) to b.
func (l *Local) AppendTo(b []byte) []byte {
	ipv := "IP4"
	if l.Addr.Is6() {
		ipv = "IP6"
	}
	b = append(b, "v=0\r\no=sidecar "...)
	b = strconv.AppendUint(b, l.SessionID, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, l.Version, 10)
	b = append(b, " IN "...)
	b = append(b, ipv...)
	b = append(b, ' ')
	b = l.appendAddr(b)
	b = append(b, "\r\ns=sidecar\r\nc=IN "...)
	b = append(b, ipv...)
	b = append(b, ' ')
	b = l.appendAddr(b)
	b = append(b, "\r\nt=0 0\r\n"...)
	if len(l.Streams) == 0 {
		return l.appendAudio(b)
	}
	for i, s := range l.Streams {
		if i == l.Audio {
			b = l.appendAudio(b)
			continue
		}
		b = append(b, "m="...)
		b = append(b, s.Media...)
		b = append(b, " 0 "...)
		b = append(b, s.Proto...)
		if len(s.Formats) == 0 {
			b = append(b, " 0"...)
		}
		for _, f := range s.Formats {
			b = append(b, ' ')
			b = append(b, f...)
		}
		b = append(b, "\r\n"...)
	}
	return b
}

// appendAddr appends Addr as its String method writes it.
func (l *Local) appendAddr(b []byte) []byte {
	if !l.Addr.IsValid() {
		return append(b, "invalid IP"...)
	}
	return l.Addr.AppendTo(b)
}

func (l *Local) appendAudio(b []byte) []byte {
	b = append(b, "m=audio "...)
	b = strconv.AppendInt(b, int64(l.Port), 10)
	b = append(b, " RTP/AVP"...)
	for _, f := range l.Formats {
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(f.PT), 10)
	}
	b = append(b, "\r\n"...)
	for _, f := range l.Formats {
		b = append(b, "a=rtpmap:"...)
		b = strconv.AppendUint(b, uint64(f.PT), 10)
		b = append(b, ' ')
		b = append(b, f.Encoding...)
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(f.ClockRate), 10)
		if f.Channels > 1 {
			b = append(b, '/')
			b = strconv.AppendInt(b, int64(f.Channels), 10)
		}
		b = append(b, "\r\n"...)
		if f.Fmtp != "" {
			b = append(b, "a=fmtp:"...)
			b = strconv.AppendUint(b, uint64(f.PT), 10)
			b = append(b, ' ')
			b = append(b, f.Fmtp...)
			b = append(b, "\r\n"...)
		}
	}
	if l.Ptime > 0 {
		b = append(b, "a=ptime:"...)
		b = strconv.AppendInt(b, int64(l.Ptime), 10)
		b = append(b, "\r\n"...)
	}
	dir := l.Direction
	if dir == "" {
		dir = SendRecv
	}
	b = append(b, "a="...)
	b = append(b, dir...)
	return append(b, "\r\n"...)
}
