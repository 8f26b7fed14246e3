package sdp

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sidecar-voip/sidecar/media/codecs"
)

// parseFast reads the common shape of an SDP body without building pion's structures:
//
//	v=0, o= (six fields), s=, [c=], b=*, t= (two numbers), a=*, then m= [c=] b=* a=* ...
//
// with every line ended by LF or CRLF, fields split by single spaces, and no blank lines.
// It allocates only what the Description keeps: the description, its streams and their
// format lists, and the audio formats; common strings ("audio", "RTP/AVP", "PCMU", payload
// type numbers) are shared constants, so a kept Description pins no copy of the body.
//
// It accepts only what pion's parser accepts and then returns the Description parsePion
// returns. For anything else (another line order or spelling, a value its own readers do
// not take, and every error) ok is false and the caller parses with parsePion, so errors
// and unusual offers are read exactly as before. TestParseFastMatchesPion and
// FuzzParseFastMatchesPion check that.
func parseFast(body []byte) (*Description, bool) {
	d := new(Description)
	if !parseFastInto(body, d) {
		return nil, false
	}
	return d, true
}

// parseFastInto is parseFast into *d. When it returns false, *d is to be overwritten (it
// may hold part of the description).
func parseFastInto(body []byte, d *Description) bool {
	if len(body) == 0 || body[len(body)-1] != '\n' {
		return false // pion requires the last line ended
	}
	var (
		state    fastState
		sessConn []byte // the session c= address
		sessDir  = SendRecv
		audioAt  = -1 // the audio m-line's offset in body
		nStreams = bytes.Count(body, []byte("\nm="))
		streams  []Stream
		audio    audioSection
	)
	if nStreams == 0 {
		return false
	}
	streams = make([]Stream, 0, nStreams)
	inAudio := false
	for rest := body; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		line := rest[:i]
		rest = rest[i+1:]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) < 2 || line[1] != '=' || bytes.IndexByte(line, '\r') >= 0 {
			return false
		}
		typ, val := line[0], line[2:]
		next, ok := state.next(typ)
		if !ok {
			return false
		}
		state = next
		switch typ {
		case 'v':
			if string(val) != "0" {
				return false
			}
		case 'o':
			if !validOrigin(val) {
				return false
			}
		case 's':
		case 'c':
			addr, ok := connection(val)
			if !ok {
				return false
			}
			if state == stSessConn {
				sessConn = addr
			} else if inAudio {
				audio.conn = addr
			}
		case 'b':
			if !validBandwidth(val) {
				return false
			}
		case 't':
			if !validTiming(val) {
				return false
			}
		case 'a':
			if state == stSessAttr {
				if dir, ok := directionOf(attrKey(val)); ok {
					sessDir = dir
				}
			} else if inAudio {
				if !audio.attr(val) {
					return false
				}
			}
		case 'm':
			st, ok := mediaLine(val)
			if !ok {
				return false
			}
			inAudio = false
			if audioAt < 0 && st.Media == "audio" && st.Port != 0 && st.Proto == "RTP/AVP" {
				audioAt, inAudio = len(streams), true
				audio.formats = val
			}
			streams = append(streams, st)
		}
	}
	if len(streams) != nStreams || state < stMedia {
		return false
	}
	*d = Description{Streams: streams, Audio: -1}
	if audioAt < 0 {
		return true
	}
	if !audio.read(d, streams[audioAt], sessConn, sessDir) {
		return false
	}
	d.Audio = audioAt
	return true
}

// fastState is parseFast's place in the grammar, a subset of pion's states.
type fastState uint8

const (
	stStart     fastState = iota
	stVersion             // after v=
	stOrigin              // after o=
	stName                // after s=
	stSessConn            // after the session c= or b=
	stTiming              // after t=
	stSessAttr            // after a session a=
	stMedia               // after m=
	stMediaConn           // after a media c= or b=
	stMediaAttr           // after a media a=
)

// next returns the state after a line of type typ, or false where parseFast stops.
func (s fastState) next(typ byte) (fastState, bool) {
	switch typ {
	case 'v':
		return stVersion, s == stStart
	case 'o':
		return stOrigin, s == stVersion
	case 's':
		return stName, s == stOrigin
	case 'c':
		switch s {
		case stName:
			return stSessConn, true
		case stMedia:
			return stMediaConn, true
		}
	case 'b':
		switch s {
		case stName, stSessConn:
			return stSessConn, true
		case stMedia, stMediaConn:
			return stMediaConn, true
		}
	case 't':
		return stTiming, s == stName || s == stSessConn
	case 'a':
		switch s {
		case stTiming, stSessAttr:
			return stSessAttr, true
		case stMedia, stMediaConn, stMediaAttr:
			return stMediaAttr, true
		}
	case 'm':
		return stMedia, s >= stTiming
	}
	return s, false
}

// fields splits a line's value at single spaces into out, returning how many there are, or
// -1 when a field is empty, a tab appears (pion splits at runs of spaces and tabs) or there
// are more than len(out).
func fields(val []byte, out [][]byte) int {
	if bytes.IndexByte(val, '\t') >= 0 {
		return -1
	}
	n := 0
	for {
		i := bytes.IndexByte(val, ' ')
		f := val
		if i >= 0 {
			f = val[:i]
		}
		if len(f) == 0 || n == len(out) {
			return -1
		}
		out[n] = f
		n++
		if i < 0 {
			return n
		}
		val = val[i+1:]
	}
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// number reads a plain decimal of at most max digits; ok is false for anything else.
func number(b []byte, max int) (int, bool) {
	if len(b) > max || !allDigits(b) {
		return 0, false
	}
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n, true
}

// payloadType reads a payload type as strconv.ParseUint(s, 10, 7) does.
func payloadType(b []byte) (uint8, bool) {
	if !allDigits(b) {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if n = n*10 + int(c-'0'); n > 127 {
			return 0, false
		}
	}
	return uint8(n), true
}

// validOrigin checks o=<user> <id> <version> IN IP4|IP6 <address>.
func validOrigin(val []byte) bool {
	var f [6][]byte
	if fields(val, f[:]) != 6 {
		return false
	}
	return allDigits(f[1]) && allDigits(f[2]) && string(f[3]) == "IN" && ipType(f[4])
}

func ipType(b []byte) bool { return string(b) == "IP4" || string(b) == "IP6" }

// connection checks c=IN IP4|IP6 <address> and returns the address.
func connection(val []byte) ([]byte, bool) {
	var f [3][]byte
	if fields(val, f[:]) != 3 || string(f[0]) != "IN" || !ipType(f[1]) {
		return nil, false
	}
	return f[2], true
}

// validBandwidth checks b=<type>:<number> as pion does.
func validBandwidth(val []byte) bool {
	typ, n, ok := bytes.Cut(val, []byte(":"))
	if !ok || bytes.IndexByte(n, ':') >= 0 {
		return false
	}
	if !bytes.HasPrefix(typ, []byte("X-")) {
		switch string(typ) {
		case "CT", "AS", "TIAS", "RS", "RR":
		default:
			return false
		}
	}
	return len(n) <= 19 && allDigits(n)
}

// validTiming checks t=<start> <stop>.
func validTiming(val []byte) bool {
	var f [2][]byte
	return fields(val, f[:]) == 2 && allDigits(f[0]) && allDigits(f[1])
}

// mediaLine reads m=<media> <port> <proto> <fmt>... into a Stream.
func mediaLine(val []byte) (Stream, bool) {
	i := bytes.IndexByte(val, ' ')
	if i < 0 {
		return Stream{}, false
	}
	j := bytes.IndexByte(val[i+1:], ' ')
	if j < 0 {
		return Stream{}, false
	}
	j += i + 1
	media, port, proto, fmts := val[:i], val[i+1:j], val[j+1:], []byte(nil)
	if k := bytes.IndexByte(proto, ' '); k >= 0 {
		proto, fmts = proto[:k], proto[k+1:]
		if len(fmts) == 0 {
			return Stream{}, false
		}
	}
	var st Stream
	var ok bool
	if st.Media, ok = mediaName(media); !ok {
		return Stream{}, false
	}
	if st.Port, ok = number(port, 5); !ok || st.Port > 65535 {
		return Stream{}, false
	}
	if st.Proto, ok = protoName(proto); !ok {
		return Stream{}, false
	}
	if fmts == nil {
		return st, true
	}
	if bytes.IndexByte(fmts, '\t') >= 0 {
		return Stream{}, false
	}
	st.Formats = make([]string, 0, bytes.Count(fmts, []byte(" "))+1)
	for f := range bytes.SplitSeq(fmts, []byte(" ")) {
		if len(f) == 0 {
			return Stream{}, false
		}
		st.Formats = append(st.Formats, token(f))
	}
	return st, true
}

func mediaName(b []byte) (string, bool) {
	switch string(b) {
	case "audio":
		return "audio", true
	case "video":
		return "video", true
	case "text":
		return "text", true
	case "application":
		return "application", true
	case "message":
		return "message", true
	}
	return "", false
}

// protoName returns the m-line's protocol when each of its /-separated parts is one pion
// knows.
func protoName(b []byte) (string, bool) {
	switch string(b) {
	case "RTP/AVP":
		return "RTP/AVP", true
	case "RTP/SAVP":
		return "RTP/SAVP", true
	case "RTP/AVPF":
		return "RTP/AVPF", true
	case "RTP/SAVPF":
		return "RTP/SAVPF", true
	case "UDP/TLS/RTP/SAVPF":
		return "UDP/TLS/RTP/SAVPF", true
	}
	for p := range bytes.SplitSeq(b, []byte("/")) {
		switch string(p) {
		case "UDP", "RTP", "AVP", "SAVP", "SAVPF", "TLS", "DTLS", "SCTP", "AVPF", "TCP", "MSRP",
			"BFCP", "UDT", "IX", "MRCPv2", "FEC":
		default:
			return "", false
		}
	}
	return string(b), true
}

// ptNames are the decimal spellings of the payload types, shared by every parsed m-line.
var ptNames = func() (s [128]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// token returns an m-line format as a string, a shared one for a payload type written plainly.
func token(b []byte) string {
	if pt, ok := payloadType(b); ok && ptNames[pt] == string(b) {
		return ptNames[pt]
	}
	return string(b)
}

// attrKey returns an attribute's key: the text before the first colon, as pion splits it.
func attrKey(val []byte) []byte {
	if i := bytes.IndexByte(val, ':'); i > 0 {
		return val[:i]
	}
	return val
}

// directionOf is direction for a key in bytes.
func directionOf(key []byte) (Direction, bool) {
	switch string(key) {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return "", false
}

// audioSection collects the attributes of the audio m-line, as readAudio reads them.
type audioSection struct {
	formats []byte // the m-line's value
	conn    []byte // its c= address, nil when none
	dir     Direction
	ptime   int
	rtcp    []byte // the last a=rtcp value
	hasRTCP bool
	rtpmaps [16]rtpmapLine
	nRtpmap int
	fmtps   [16]fmtp
	nFmtp   int
}

// rtpmapLine is an a=rtpmap read but not yet looked up in the codec table.
type rtpmapLine struct {
	pt, channels uint8
	rate         int32
	encoding     []byte
}

type fmtp struct {
	pt  uint8
	val []byte
}

// attr reads one a= line of the audio m-line; false hands the body to pion.
func (a *audioSection) attr(val []byte) bool {
	key, v := val, []byte(nil)
	if i := bytes.IndexByte(val, ':'); i > 0 {
		key, v = val[:i], val[i+1:]
	}
	if dir, ok := directionOf(key); ok {
		a.dir = dir
		return true
	}
	switch string(key) {
	case "rtpmap":
		f, ok := rtpmap(v)
		if !ok || a.nRtpmap == len(a.rtpmaps) {
			return false
		}
		a.rtpmaps[a.nRtpmap] = f
		a.nRtpmap++
	case "fmtp":
		pt, rest, _ := bytes.Cut(v, []byte(" "))
		n, ok := payloadType(pt)
		if !ok || a.nFmtp == len(a.fmtps) {
			return false
		}
		a.fmtps[a.nFmtp] = fmtp{pt: n, val: bytes.TrimSpace(rest)}
		a.nFmtp++
	case "rtcp":
		if a.hasRTCP {
			return false // readAudio checks each; one is enough here
		}
		a.rtcp, a.hasRTCP = v, true
	case "ptime":
		n, ok := number(v, 4)
		if !ok || n < 1 || n > 1000 {
			return false
		}
		a.ptime = n
	}
	return true
}

// read fills d's audio fields from the section, as readAudio does.
func (a *audioSection) read(d *Description, st Stream, sessConn []byte, sessDir Direction) bool {
	conn := a.conn
	if conn == nil {
		conn = sessConn
	}
	if conn == nil {
		return false
	}
	addr, ok := ipAddr(conn)
	if !ok {
		return false
	}
	d.Port, d.Addr = st.Port, addr
	d.Direction, d.Ptime = sessDir, a.ptime
	if a.dir != "" {
		d.Direction = a.dir
	}
	if a.hasRTCP {
		ap, err := parseRTCP(string(a.rtcp), d.Addr)
		if err != nil {
			return false
		}
		d.RTCP = ap
	}
	n := 0
	for _, s := range st.Formats {
		pt, err := strconv.ParseUint(s, 10, 7)
		if err != nil {
			return false
		}
		if a.rtpmap(uint8(pt)) != nil {
			n++
		} else if _, static := codecs.Static(uint8(pt)); static {
			n++
		}
	}
	if n == 0 {
		return true
	}
	d.Formats = make([]Format, 0, n)
	for _, s := range st.Formats {
		pt, _ := strconv.ParseUint(s, 10, 7)
		var f Format
		if m := a.rtpmap(uint8(pt)); m != nil {
			f = m.format()
		} else if c, static := codecs.Static(uint8(pt)); static {
			f = format(c)
		} else {
			continue
		}
		f.Fmtp = a.fmtp(uint8(pt))
		d.Formats = append(d.Formats, f)
	}
	return true
}

// rtpmap returns the last a=rtpmap of pt, nil when none.
func (a *audioSection) rtpmap(pt uint8) *rtpmapLine {
	for i := a.nRtpmap - 1; i >= 0; i-- {
		if a.rtpmaps[i].pt == pt {
			return &a.rtpmaps[i]
		}
	}
	return nil
}

// fmtp returns the last a=fmtp parameters of pt, "" when none.
func (a *audioSection) fmtp(pt uint8) string {
	for i := a.nFmtp - 1; i >= 0; i-- {
		if a.fmtps[i].pt == pt {
			return fmtpString(a.fmtps[i].val)
		}
	}
	return ""
}

// fmtpString returns fmtp parameters as a string, a shared one for the common values.
func fmtpString(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "0-15":
		return "0-15"
	case "0-16":
		return "0-16"
	case "annexb=no":
		return "annexb=no"
	case "useinbandfec=1":
		return "useinbandfec=1"
	case "minptime=10;useinbandfec=1":
		return "minptime=10;useinbandfec=1"
	}
	return string(b)
}

// rtpmap reads "96 opus/48000/2" written plainly (parseRtpmap reads the rest: false here).
func rtpmap(v []byte) (rtpmapLine, bool) {
	pt, rest, ok := bytes.Cut(v, []byte(" "))
	if !ok {
		return rtpmapLine{}, false
	}
	n, ok := payloadType(pt)
	if !ok {
		return rtpmapLine{}, false
	}
	enc, rest, ok := bytes.Cut(rest, []byte("/"))
	if !ok || !plainName(enc) {
		return rtpmapLine{}, false
	}
	rateB, chB, hasCh := bytes.Cut(rest, []byte("/"))
	rate, ok := number(rateB, 7)
	if !ok || rate <= 0 || rate > 1000000 {
		return rtpmapLine{}, false
	}
	ch := 1
	if hasCh {
		if ch, ok = number(chB, 1); !ok || ch < 1 || ch > 8 {
			return rtpmapLine{}, false
		}
	}
	return rtpmapLine{pt: n, channels: uint8(ch), rate: int32(rate), encoding: enc}, true
}

// format returns the line's Format as parseRtpmap does (Fmtp empty), the encoding a shared
// string when the codec table spells it so.
func (r *rtpmapLine) format() Format {
	rate, ch := int(r.rate), int(r.channels)
	f := Format{PT: r.pt, ClockRate: rate, Channels: ch}
	if c, ok := codecs.ByEncoding(string(r.encoding), rate, ch); ok {
		f.Name = c.Name
		if c.Encoding == string(r.encoding) {
			f.Encoding = c.Encoding
		}
	} else if strings.EqualFold(string(r.encoding), TelephoneEvent) {
		f.Name = TelephoneEvent
	}
	if f.Encoding == "" {
		if string(r.encoding) == TelephoneEvent {
			f.Encoding = TelephoneEvent
		} else {
			f.Encoding = string(r.encoding)
		}
	}
	return f
}

// plainName reports an encoding name of letters, digits and ".-_+" only: nothing
// strings.TrimSpace could trim, no separator.
func plainName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_', c == '+':
		default:
			return false
		}
	}
	return true
}

// ipAddr parses a connection address as netip.ParseAddr does (Unmapped): a dotted quad by
// hand, anything else through netip.
func ipAddr(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	part, n, digits := 0, 0, 0
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && n == 0 { // a leading zero
				return parseAddr(b)
			}
			n = n*10 + int(c-'0')
			digits++
			if n > 255 { // or an IPv6 address
				return parseAddr(b)
			}
		case c == '.' && digits > 0 && part < 3 && i < len(b)-1:
			ip[part] = byte(n)
			part, n, digits = part+1, 0, 0
		default:
			return parseAddr(b)
		}
	}
	if part != 3 || digits == 0 {
		return parseAddr(b)
	}
	ip[3] = byte(n)
	return netip.AddrFrom4(ip), true
}

func parseAddr(b []byte) (netip.Addr, bool) {
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
