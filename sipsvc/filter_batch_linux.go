//go:build linux && (amd64 || arm64)

package sipsvc

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sidecar-voip/sidecar/internal/rxstamp"
)

// batchSys reads a UDP socket with recvmmsg and writes its answers with sendmmsg, both
// through the socket's syscall.RawConn: Go's poller parks the reader only when the socket is
// empty (EAGAIN), and read deadlines and Close work as for any read.
type batchSys struct {
	raw   syscall.RawConn
	msgs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
	slots []rxSlot
	// used is how many headers the last read filled (to reset before the next).
	used int
	n    int
	err  error
	// out, outIovs and outNames are the headers of the answers of one write.
	out      []unix.Mmsghdr
	outIovs  []unix.Iovec
	outNames []unix.RawSockaddrInet6
	// outMsgs are the answers being written; sent counts those done.
	outMsgs []txReply
	sent    int
	failed  func(netip.AddrPort, error)
	// zoneIdx and zone are the last IPv6 scope read and its interface name: the name is
	// looked up (a netlink query) once per source interface, not per datagram.
	zoneIdx uint32
	zone    string

	recvFn, sendFn func(fd uintptr) bool
}

// newBatchSys prepares the headers of a batched read into slots (nil: the socket's raw
// descriptor cannot be reached, and reads take one datagram at a time).
func newBatchSys(c *net.UDPConn, slots []rxSlot) *batchSys {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	n := len(slots)
	s := &batchSys{raw: raw, slots: slots, msgs: make([]unix.Mmsghdr, n), iovs: make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet6, n), out: make([]unix.Mmsghdr, n), outIovs: make([]unix.Iovec, n),
		outNames: make([]unix.RawSockaddrInet6, n)}
	for i := range slots {
		s.iovs[i].Base = &slots[i].buf[0]
		s.iovs[i].SetLen(len(slots[i].buf))
		h := &s.msgs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&s.names[i]))
		h.Iov = &s.iovs[i]
		h.SetIovlen(1)
		if rxstamp.Space > 0 {
			h.Control = &slots[i].oob[0]
		}
		s.out[i].Hdr.Name = (*byte)(unsafe.Pointer(&s.outNames[i]))
		s.out[i].Hdr.Iov = &s.outIovs[i]
		s.out[i].Hdr.SetIovlen(1)
	}
	s.used = n
	s.recvFn, s.sendFn = s.recv, s.send
	return s
}

// read fills the slots with the next datagrams, at least one: one recvmmsg, waiting in Go's
// poller while the socket is empty. Without batchSys it reads one datagram.
func (r *rxBatch) read(c *net.UDPConn) (int, error) {
	s := r.sys
	if s == nil {
		return readOne(c, &r.slots[0])
	}
	s.n, s.err = 0, nil
	if err := s.raw.Read(s.recvFn); err != nil {
		return 0, err // a *net.OpError; net.ErrClosed once the socket is closed
	}
	if s.err != nil {
		return 0, &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: os.NewSyscallError("recvmmsg", s.err)}
	}
	for i := range s.n {
		m := &s.msgs[i]
		sl := &r.slots[i]
		sl.n = int(m.Len)
		sl.flags = int(m.Hdr.Flags)
		sl.oobn = int(m.Hdr.Controllen)
		sl.src = s.addrPort(&s.names[i])
	}
	return s.n, nil
}

// recv is the raw read: false (wait for the socket to be readable) on EAGAIN.
func (s *batchSys) recv(fd uintptr) bool {
	for i := range s.used {
		h := &s.msgs[i].Hdr
		h.Namelen = unix.SizeofSockaddrInet6
		h.SetControllen(rxstamp.Space)
		h.Flags = 0
		s.msgs[i].Len = 0
	}
	for {
		n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&s.msgs[0])),
			uintptr(len(s.msgs)), 0, 0, 0)
		switch errno {
		case 0:
			s.n, s.used = int(n), int(n)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		s.err = errno
		return true
	}
}

// write sends the queued answers: sendmmsg, as many calls as the kernel needs; an answer
// the kernel refuses is skipped (logged) and the rest still go.
func (r *rxBatch) write(c *trustPacketConn) {
	s := r.sys
	if s == nil {
		writeEach(c, r.replies)
		return
	}
	k := 0
	for _, m := range r.replies {
		if len(m.b) == 0 || !putSockaddr(&s.outNames[k], m.dst) {
			c.replyFailed(m.dst, errNoReplyAddr)
			continue
		}
		s.outIovs[k].Base = &m.b[0]
		s.outIovs[k].SetLen(len(m.b))
		s.out[k].Hdr.Namelen = unix.SizeofSockaddrInet6
		if m.dst.Addr().Is4() {
			s.out[k].Hdr.Namelen = unix.SizeofSockaddrInet4
		}
		s.out[k].Len = 0
		r.replies[k] = m
		k++
	}
	s.outMsgs, s.sent, s.failed = r.replies[:k], 0, c.replyFailed
	for s.sent < k {
		if err := s.raw.Write(s.sendFn); err != nil {
			for _, m := range s.outMsgs[s.sent:] {
				c.replyFailed(m.dst, err)
			}
			break
		}
	}
	for i := range k {
		s.outIovs[i].Base = nil // the answers are not kept alive by the headers
	}
	s.outMsgs, s.failed = nil, nil
}

// send is the raw write of the answers not yet sent: false (wait until writable) on EAGAIN.
// An answer the kernel refuses (the first of the call) is skipped.
func (s *batchSys) send(fd uintptr) bool {
	for s.sent < len(s.outMsgs) {
		n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&s.out[s.sent])),
			uintptr(len(s.outMsgs)-s.sent), 0, 0, 0)
		switch errno {
		case 0:
			s.sent += int(n)
			if n == 0 {
				return true // nothing taken and no error: give up rather than spin
			}
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			s.failed(s.outMsgs[s.sent].dst, os.NewSyscallError("sendmmsg", errno))
			s.sent++
		}
	}
	return true
}

// addrPort is the address of a sockaddr filled by the kernel (IPv4 or IPv6, the IPv6 zone
// by interface name as Go's net package names it).
func (s *batchSys) addrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa4.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	case unix.AF_INET6:
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
		a := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			if sa.Scope_id != s.zoneIdx || s.zone == "" {
				s.zoneIdx, s.zone = sa.Scope_id, zoneName(int(sa.Scope_id))
			}
			a = a.WithZone(s.zone)
		}
		return netip.AddrPortFrom(a, port)
	}
	return netip.AddrPort{}
}

// zoneName is the name of interface index i, or the number when it has none.
func zoneName(i int) string {
	if ifi, err := net.InterfaceByIndex(i); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(i)
}

// putSockaddr writes dst into sa as an IPv4 or IPv6 sockaddr; false when it has no address.
func putSockaddr(sa *unix.RawSockaddrInet6, dst netip.AddrPort) bool {
	a := dst.Addr()
	var port [2]byte
	binary.BigEndian.PutUint16(port[:], dst.Port())
	switch {
	case a.Is4():
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.As4()}
		copy((*[2]byte)(unsafe.Pointer(&sa4.Port))[:], port[:])
	case a.Is6():
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
		copy((*[2]byte)(unsafe.Pointer(&sa.Port))[:], port[:])
		if z := a.Zone(); z != "" {
			if ifi, err := net.InterfaceByName(z); err == nil {
				sa.Scope_id = uint32(ifi.Index)
			} else if n, err := strconv.Atoi(z); err == nil {
				sa.Scope_id = uint32(n)
			}
		}
	default:
		return false
	}
	return true
}
