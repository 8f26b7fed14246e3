package sipsvc

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sidecar-voip/sidecar/internal/rxstamp"
)

// The trust filter runs below sipgo, on the sockets themselves. sipgo answers some messages
// inside its transaction layer before any handler runs (a CANCEL matching a pending INVITE
// gets 200 and the INVITE 487; an ACK is absorbed by its INVITE transaction; a request too
// malformed to key a transaction gets a stateless 400), so a check in the handlers alone
// lets an untrusted source cancel a trusted caller's call. Hence:
//
//   - UDP: a datagram from an untrusted source is discarded in ReadFrom, before sipgo parses
//     it, and counted. The one exception is untrusted = reject: a datagram whose first line
//     is a SIP request other than ACK and CANCEL is passed up, so the handler answers 403
//     (and counts it). Responses, ACK, CANCEL and anything else are always discarded.
//   - TCP and TLS: a connection from an untrusted peer is closed in Accept, before the TLS
//     handshake and before sipgo reads a byte, and counted. It gets no SIP answer.
//
// The handlers' own check (trusted, in trust.go) stays as a second line of defence.

// streamIdleTimeout closes a TCP or TLS connection from a trusted peer after this long
// without a byte read (the TLS handshake included): a peer that vanished without closing
// holds no goroutine or descriptor past it. It is longer than any sensible ringing time,
// since a ringing INVITE's answer goes back on the connection it came in on; a connection
// closed while idle is simply dialled again by whichever side next has a request.
const streamIdleTimeout = 10 * time.Minute

// maxMethodLen bounds the method token the datagram peek accepts (the longest registered
// SIP method, SUBSCRIBE/PUBLISH/REGISTER..., is far shorter).
const maxMethodLen = 32

// trustGate decides, per datagram or connection, what the trust filter lets through.
type trustGate struct {
	// settings are the live trust list and untrusted action (reject: untrusted requests, not
	// ACK, not CANCEL, go up for 403), read for every datagram and connection, so a reload
	// (Server.Apply) applies to the sockets already bound.
	settings *atomic.Pointer[liveSettings]
	// refuse counts (and may log) one discarded datagram or closed connection.
	refuse func(src netip.AddrPort, what string)
	// malformed counts (and may log) one trusted datagram discarded as not SIP (framing.go).
	// nil: no framing check.
	malformed func(src netip.AddrPort, why string)
}

// newTrustGate builds the gate of s's configuration.
func (s *Server) newTrustGate() *trustGate {
	return &trustGate{settings: &s.live, refuse: s.refuseAtSocket, malformed: s.malformedAtSocket}
}

// refuseAtSocket counts one datagram discarded or connection closed by the trust filter and
// logs it, at most once per untrustedLogEvery together with the handlers' refusals.
func (s *Server) refuseAtSocket(src netip.AddrPort, what string) {
	s.stats.untrusted.Add(1)
	if ok, held := s.untrustedLog.allow(time.Now(), untrustedLogEvery); ok {
		s.log.Warn("untrusted source refused", "source", src.String(), "what", what,
			"action", "discarded at the socket", "suppressed_since_last", held)
	}
}

// admitDatagram reports whether a datagram b from src goes up to sipgo; a datagram it does
// not admit is refused (counted). It does not allocate.
func (g *trustGate) admitDatagram(src netip.AddrPort, b []byte) bool {
	set := g.settings.Load()
	if set.trusted.Allows(src) || (set.reject && isAnswerableRequest(b)) {
		return true
	}
	g.refuse(src, "udp datagram")
	return false
}

// isAnswerableRequest reports whether b starts with a SIP request line, as sipgo parses one
// from a datagram, of a method other than ACK and CANCEL: "METHOD sip:... SIP/2.0" (or
// sips:) then CRLF, the method a token, exactly two spaces. It only reads b.
func isAnswerableRequest(b []byte) bool {
	// The method: token characters up to the first space.
	m := 0
	for m < len(b) && m <= maxMethodLen && isTokenChar(b[m]) {
		m++
	}
	if m == 0 || m > maxMethodLen || m >= len(b) || b[m] != ' ' {
		return false
	}
	method := b[:m]
	// sipgo upper-cases the method, so "cancel" is a CANCEL too.
	if equalFoldASCII(method, "ACK") || equalFoldASCII(method, "CANCEL") {
		return false
	}
	rest := b[m+1:]
	if !hasPrefixFoldASCII(rest, "sip:") && !hasPrefixFoldASCII(rest, "sips:") {
		return false
	}
	// The line ends at the first CR, which must be followed by LF (sipgo's nextLine), and
	// holds exactly one more space, before "SIP/2.0".
	end := -1
	spaces := 0
	for i, c := range rest {
		if c == '\r' {
			end = i
			break
		}
		if c == ' ' {
			spaces++
		}
	}
	if end < 0 || end+1 >= len(rest) || rest[end+1] != '\n' || spaces != 1 {
		return false
	}
	const version = " SIP/2.0"
	line := rest[:end]
	return len(line) > len(version) && string(line[len(line)-len(version):]) == version
}

// isTokenChar reports whether c may appear in an RFC 3261 token (a method name).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '!', '%', '*', '_', '+', '`', '\'', '~':
		return true
	}
	return false
}

// equalFoldASCII compares b with the upper-case ASCII word w, ignoring case.
func equalFoldASCII(b []byte, w string) bool {
	return len(b) == len(w) && hasPrefixFoldASCII(b, w)
}

// hasPrefixFoldASCII reports whether b starts with the lower- or upper-case ASCII word w,
// ignoring case (w holds only letters and punctuation).
func hasPrefixFoldASCII(b []byte, w string) bool {
	if len(b) < len(w) {
		return false
	}
	for i := 0; i < len(w); i++ {
		c, d := b[i], w[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if 'a' <= d && d <= 'z' {
			d -= 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// trustPacketConn is the UDP socket handed to sipgo: ReadFrom returns only the datagrams
// the gate admits and silently discards the others. It is a net.PacketConn and nothing
// more: the socket is a named field, not embedded, so no other read method of *net.UDPConn
// (ReadFromUDP, ReadMsgUDP, Read, ...) can bypass the gate. sipgo's ServeUDP takes a
// net.PacketConn and asserts no concrete type; the receive buffer is set on the socket
// before it is wrapped. It reads in batches (filter_batch.go).
type trustPacketConn struct {
	UDPConn *net.UDPConn
	gate    *trustGate
	send    *udpSenders // nil: WriteTo sends through UDPConn (udpsend.go)
	// admit is the overload check (Server) run on each trusted datagram and on each datagram
	// sent. nil: none.
	admit datagramAdmitter
	// log takes the debug line of an overload 503 the socket would not send (nil: none).
	log *slog.Logger
	// batch is how many datagrams one read takes: 0 rxBatchSize, 1 one per read (the path
	// without recvmmsg, as on other systems).
	batch int

	// rx is the ring of batched reads, made at the first read (sized to its buffer).
	rx *rxBatch
	// backlog reads the socket's receive queue for the overload check (made at the first read).
	backlog *backlogGauge
	// lastSrc and lastAddr: the source of the last datagram returned and the address it was
	// returned as, returned again for the next datagram from the same source (from
	// Kamailio, nearly every one) instead of a new net.UDPAddr (two allocations). Readers
	// must not change the address (sipgo does not).
	lastSrc  netip.AddrPort
	lastAddr *net.UDPAddr
}

// datagramAdmitter is the overload control of a UDP socket (overload.go).
type datagramAdmitter interface {
	// admitNewCall reports whether datagram b from src, read at now, which arrived at the
	// socket at arrived, goes up; false when it answered the datagram itself (a 503, queued
	// through reply, which keeps it until it is written) or absorbed it. backlog reads how full
	// the socket's receive queue is (read once per batch).
	admitNewCall(src netip.AddrPort, b []byte, now, arrived time.Time, reply replyQueue,
		backlog *backlogGauge) bool
	// sentResponse sees each datagram sent.
	sentResponse(b []byte)
}

// replyQueue takes the stateless answers of a batch of datagrams (rxBatch).
type replyQueue interface {
	// scratch returns an empty slice whose spare capacity the next answer may be built in
	// (append to it), so an answer allocates nothing.
	scratch() []byte
	// queue adds answer b for dst; b (built in scratch or not) is kept until it is written.
	queue(b []byte, dst netip.AddrPort)
}

var _ net.PacketConn = (*trustPacketConn)(nil)

// ReadFrom copies the next admitted datagram into b. The gate peeks at each datagram in
// place in the batch; a discarded datagram costs no allocation. The arrival time the
// overload check gets is the kernel's receive timestamp (SO_TIMESTAMPNS) where there is
// one, else the time of the read. A datagram longer than b is truncated to it (the ring's
// buffers are as large as the first b: none is then truncated twice).
func (c *trustPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if c.rx == nil {
		c.start(len(b))
	}
	r := c.rx
	if r.next >= len(r.keep) {
		if err := c.fillAndGate(); err != nil {
			return 0, nil, err
		}
	}
	s := &r.slots[r.keep[r.next]]
	r.next++
	n := copy(b, s.buf[:s.n])
	if c.lastAddr == nil || s.src != c.lastSrc {
		c.lastSrc, c.lastAddr = s.src, net.UDPAddrFromAddrPort(s.src)
	}
	return n, c.lastAddr, nil
}

// start makes the ring of batched reads, its buffers size bytes each, and, with an overload
// check, asks the kernel for receive timestamps and opens the backlog gauge.
func (c *trustPacketConn) start(size int) {
	if c.admit != nil {
		rxstamp.Enable(c.UDPConn)
		c.backlog = newBacklogGauge(c.UDPConn)
	}
	n := c.batch
	if n <= 0 {
		n = rxBatchSize
	}
	c.rx = newRxBatch(c.UDPConn, n, max(size, 1), n > 1)
}

// WriteTo sends b to addr through the socket.
func (c *trustPacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.admit != nil {
		c.admit.sentResponse(b)
	}
	if c.send != nil {
		return c.send.writeTo(b, addr)
	}
	return c.UDPConn.WriteTo(b, addr)
}

// Close closes the socket.
func (c *trustPacketConn) Close() error { return c.UDPConn.Close() }

// LocalAddr is the socket's local address.
func (c *trustPacketConn) LocalAddr() net.Addr { return c.UDPConn.LocalAddr() }

// SetDeadline sets the socket's read and write deadlines.
func (c *trustPacketConn) SetDeadline(t time.Time) error { return c.UDPConn.SetDeadline(t) }

// SetReadDeadline sets the socket's read deadline.
func (c *trustPacketConn) SetReadDeadline(t time.Time) error { return c.UDPConn.SetReadDeadline(t) }

// SetWriteDeadline sets the socket's write deadline.
func (c *trustPacketConn) SetWriteDeadline(t time.Time) error { return c.UDPConn.SetWriteDeadline(t) }

// trustListener is the TCP listener handed to sipgo (under tls.NewListener for TLS): Accept
// closes connections from untrusted peers at once and returns the others with an idle
// read timeout.
type trustListener struct {
	*net.TCPListener
	gate *trustGate
	what string // "tcp connection" or "tls connection", for the refusal
	idle time.Duration
	log  *slog.Logger
}

// Accept returns the next connection from a trusted peer. A temporary accept failure (out of
// file descriptors: EMFILE, ENFILE; a connection aborted before accept; out of buffers) is
// logged once per run of failures and retried after a backoff of 5 ms doubling to 1 s, as
// net/http's Server.Serve does: sipgo's serve loop returns on the first error, which would
// stop the listener for good.
func (l *trustListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.TCPListener.AcceptTCP()
		if err != nil {
			if !retryAccept(err) {
				return nil, err
			}
			if delay == 0 {
				delay = 5 * time.Millisecond
				l.log.Warn("accept failed: retrying", "listener", l.what, "error", err)
			} else if delay *= 2; delay > time.Second {
				delay = time.Second
			}
			time.Sleep(delay)
			continue
		}
		delay = 0
		var src netip.AddrPort
		if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			src = a.AddrPort()
		}
		if l.gate.settings.Load().trusted.Allows(src) {
			return &idleConn{TCPConn: c, idle: l.idle, log: l.log, what: l.what}, nil
		}
		_ = c.Close()
		l.gate.refuse(src, l.what)
	}
}

// retryAccept reports whether an accept error is temporary: the process or the system is out
// of file descriptors or buffers, or the connection was aborted before it was accepted.
func retryAccept(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) ||
		errors.Is(err, syscall.ENOMEM)
}

// idleConn is a stream connection whose every Read waits at most idle for data. A Read that
// times out ends the connection as if the peer had closed it (io.EOF), which sipgo treats
// as a normal close rather than logging an error.
type idleConn struct {
	*net.TCPConn
	idle time.Duration
	log  *slog.Logger
	what string
}

// Read reads with the idle deadline renewed.
func (c *idleConn) Read(b []byte) (int, error) {
	if err := c.TCPConn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	n, err := c.TCPConn.Read(b)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.log.Debug("idle stream connection closed", "what", c.what, "peer", c.RemoteAddr().String(),
			"idle", c.idle)
		return n, io.EOF
	}
	return n, err
}
