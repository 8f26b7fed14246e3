package sipsvc

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/sidecar-voip/sidecar/internal/rxstamp"
)

// The UDP socket filter reads in batches. One read (recvmmsg on 64-bit Linux, batch_linux.go;
// one datagram elsewhere, batch_other.go) fills a ring of rxBatchSize datagram buffers, each
// with its source, its read flags and its receive timestamp. The whole batch goes through the
// gate at once: the trust check, the framing check and the overload check run on each
// datagram in order, the ACKs of refused INVITEs are absorbed, and the refused INVITEs'
// 503s are queued and written together (sendmmsg) before the first admitted datagram is
// handed out. ReadFrom then hands the admitted ones to sipgo one by one, copied into the
// caller's buffer, and reads again only when they are all out: one system call and one
// wakeup of Go's poller per batch instead of per datagram, and one per batch of 503s.

// rxBatchSize is how many datagrams one read takes from the socket (and how many 503s one
// write sends at most). Each buffer is as large as the caller's read buffer (sipgo's 32 KiB),
// so a datagram is truncated exactly where it would be without batching; a small datagram
// touches only the first page of its buffer.
const rxBatchSize = 32

// rxSlot is one datagram read in a batch.
type rxSlot struct {
	buf   []byte
	n     int
	src   netip.AddrPort
	flags int
	oob   [rxstamp.Space]byte
	oobn  int
}

// txReply is one stateless answer queued in a batch: its bytes and its destination.
type txReply struct {
	b   []byte
	dst netip.AddrPort
}

// rxBatch is the ring of a socket's batched reads and the 503s its gate queued. Used by the
// socket's one reading goroutine (sipgo reads a packet connection from one goroutine only).
type rxBatch struct {
	slots []rxSlot
	// keep lists the slots admitted in the last batch, in order; next is the next to hand out.
	keep []int
	next int
	// replies are the answers queued while gating the batch, written before hand-out.
	replies []txReply
	// arena is the scratch space the answers are built in (scratch), free its unused part.
	arena, free []byte
	// sys is the platform's batched I/O on the socket (nil: one datagram per read).
	sys *batchSys
}

// newRxBatch returns a ring of n buffers of size bytes for c, read with recvmmsg where the
// platform has it when batched.
func newRxBatch(c *net.UDPConn, n, size int, batched bool) *rxBatch {
	r := &rxBatch{slots: make([]rxSlot, n), keep: make([]int, 0, n), replies: make([]txReply, 0, n),
		arena: make([]byte, 0, n*replySpace)}
	r.free = r.arena
	for i := range r.slots {
		r.slots[i].buf = make([]byte, size)
	}
	if batched {
		r.sys = newBatchSys(c, r.slots)
	}
	return r
}

// replySpace is the scratch space per datagram of a batch for its answer: a 503 copies the
// INVITE's Via, From, To, Call-ID and CSeq lines, a few hundred bytes. One longer than the
// space left is built in a slice of its own.
const replySpace = 1024

// scratch returns the unused part of the batch's scratch space, empty, to build an answer in.
func (r *rxBatch) scratch() []byte { return r.free[:0] }

// queue adds one stateless answer to the batch (the overload check's 503s). Built in scratch,
// it takes its room there.
func (r *rxBatch) queue(b []byte, dst netip.AddrPort) {
	r.replies = append(r.replies, txReply{b: b, dst: dst})
	if len(b) > 0 && cap(r.free) > 0 && &b[0] == &r.free[:1][0] {
		r.free = b[len(b):]
	}
}

// fillAndGate reads the next batch from the socket and passes each datagram through the
// gate; it returns when at least one datagram is admitted (r.keep) or on a read error. The
// queued answers are written before it returns.
func (c *trustPacketConn) fillAndGate() error {
	r := c.rx
	for {
		k, err := r.read(c.UDPConn)
		if err != nil {
			return err
		}
		r.keep, r.next = r.keep[:0], 0
		var now time.Time
		if c.admit != nil {
			now = time.Now()
			c.backlog.next() // read at most once per batch
		}
		for i := range k {
			if c.pass(&r.slots[i], now) {
				r.keep = append(r.keep, i)
			}
		}
		if len(r.replies) > 0 {
			c.flushReplies()
		}
		if len(r.keep) > 0 {
			return nil
		}
	}
}

// pass reports whether datagram s, read at now, goes up: it passes the trust gate, the
// framing check and the overload check (which may queue a 503 in the batch instead).
func (c *trustPacketConn) pass(s *rxSlot, now time.Time) bool {
	b := s.buf[:s.n]
	if c.gate != nil && (!c.gate.admitDatagram(s.src, b) || !c.gate.framed(s.src, b, s.flags)) {
		return false
	}
	if c.admit == nil {
		return true
	}
	arrived, ok := rxstamp.Parse(s.oob[:s.oobn])
	if !ok || arrived.After(now) {
		arrived = now
	}
	return c.admit.admitNewCall(s.src, b, now, arrived, c.rx, c.backlog)
}

// flushReplies writes the queued answers (one sendmmsg where the platform has it) and
// empties the queue. They are not shown to the overload check (sentResponse, as WriteTo
// shows sipgo's responses): each answers an INVITE it refused, which has no wait to end.
func (c *trustPacketConn) flushReplies() {
	r := c.rx
	r.write(c)
	r.resetReplies()
}

// resetReplies empties the queued answers and gives their scratch space back.
func (r *rxBatch) resetReplies() {
	clear(r.replies)
	r.replies = r.replies[:0]
	r.free = r.arena
}

// replyFailed logs one queued answer the socket would not send.
func (c *trustPacketConn) replyFailed(dst netip.AddrPort, err error) {
	if c.log != nil {
		c.log.Debug("overload 503 not sent", "source", dst.String(), "error", err)
	}
}

// errNoReplyAddr: a queued answer has no destination address (or no bytes).
var errNoReplyAddr = errors.New("send overload 503: no destination address")

// readOne reads one datagram into s (the path without batched reads).
func readOne(c *net.UDPConn, s *rxSlot) (int, error) {
	n, oobn, flags, src, err := c.ReadMsgUDPAddrPort(s.buf, s.oob[:])
	if err != nil {
		return 0, err
	}
	s.n, s.oobn, s.flags, s.src = n, oobn, flags, src
	return 1, nil
}

// writeEach sends the answers one by one (the path without batched writes).
func writeEach(c *trustPacketConn, replies []txReply) {
	for _, m := range replies {
		if !m.dst.IsValid() {
			c.replyFailed(m.dst, errNoReplyAddr)
			continue
		}
		if _, err := c.UDPConn.WriteToUDPAddrPort(m.b, m.dst); err != nil {
			c.replyFailed(m.dst, err)
		}
	}
}
