//go:build linux && !rtpnoepoll

package rtp

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"github.com/pion/rtp"
	"golang.org/x/sys/unix"
)

// The Linux media I/O: non-blocking sockets of the pool watched by a few epoll reactors.
//
// Each reactor is one goroutine with its own epoll instance (level-triggered); a pair's two
// sockets go to reactor idx % n. On readiness the reactor reads one datagram from the
// socket, with the pair's lock held, and runs the owner's handler (pair.handle); a socket
// with more queued stays ready and is served again at the next epoll_wait, after the other
// ready sockets. Reading one datagram per readiness instead of reading to EAGAIN saves the
// EAGAIN read (with a packet every 20 ms per socket almost every readiness has one
// datagram), and a flooded socket cannot starve the others. Echo and playback write with
// sendto directly; a full send buffer (EAGAIN) drops the packet, it never blocks.

// reactorEvents is how many ready sockets one epoll_wait returns at most.
const reactorEvents = 128

// keepBound: a released pair keeps its sockets for the next call (see portPool).
const keepBound = true

// maxDrain bounds the datagrams attach discards from a reused socket.
const maxDrain = 1024

// sock is one non-blocking UDP socket of the pool; the zero value is no socket.
type sock struct {
	fd int
	ok bool
	v6 bool // AF_INET6: IPv4 peers are written as v4-mapped addresses
}

var errFamily = errors.New("address family not supported by the socket")

// openSock binds a non-blocking UDP socket to a. An unspecified IPv4 address binds the
// dual-stack [::] when the host has IPv6, as net.ListenUDP does.
func openSock(a netip.AddrPort) (sock, error) {
	addr := a.Addr().Unmap()
	if addr.Is4() && addr.IsUnspecified() {
		if k, err := bindSock(netip.AddrPortFrom(netip.IPv6Unspecified(), a.Port())); err == nil {
			return k, nil
		}
	}
	return bindSock(netip.AddrPortFrom(addr, a.Port()))
}

func bindSock(a netip.AddrPort) (sock, error) {
	family := unix.AF_INET
	if a.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return sock{}, fmt.Errorf("open udp socket: %w", err)
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET {
		sa = &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()}
	} else {
		if a.Addr().IsUnspecified() {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
				unix.Close(fd)
				return sock{}, fmt.Errorf("open udp socket: dual stack: %w", err)
			}
		}
		sa = &unix.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return sock{}, fmt.Errorf("bind udp %s: %w", a, err)
	}
	return sock{fd: fd, ok: true, v6: family == unix.AF_INET6}, nil
}

func (k sock) valid() bool { return k.ok }

func (k sock) close() error { return unix.Close(k.fd) }

// writeTo sends b to dst without blocking and without allocating.
func (k sock) writeTo(b []byte, dst netip.AddrPort) error {
	if len(b) == 0 {
		return nil
	}
	var (
		r4 unix.RawSockaddrInet4
		r6 unix.RawSockaddrInet6
		sa unsafe.Pointer
		sl uintptr
	)
	addr := dst.Addr()
	switch {
	case !k.v6:
		addr = addr.Unmap()
		if !addr.Is4() {
			return errFamily
		}
		r4.Family = unix.AF_INET
		putPort(&r4.Port, dst.Port())
		r4.Addr = addr.As4()
		sa, sl = unsafe.Pointer(&r4), unix.SizeofSockaddrInet4
	default:
		r6.Family = unix.AF_INET6
		putPort(&r6.Port, dst.Port())
		r6.Addr = addr.As16() // an IPv4 address as v4-mapped
		sa, sl = unsafe.Pointer(&r6), unix.SizeofSockaddrInet6
	}
	_, _, e := syscall.Syscall6(unix.SYS_SENDTO, uintptr(k.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		unix.MSG_DONTWAIT, uintptr(sa), sl)
	if e != 0 {
		return e
	}
	return nil
}

// recvFrom reads one datagram into b without blocking; rsa is the caller's scratch.
func (k sock) recvFrom(b []byte, rsa *unix.RawSockaddrAny) (int, netip.AddrPort, error) {
	l := uint32(unix.SizeofSockaddrAny)
	n, _, e := syscall.Syscall6(unix.SYS_RECVFROM, uintptr(k.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return 0, netip.AddrPort{}, e
	}
	switch rsa.Addr.Family {
	case unix.AF_INET:
		r := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return int(n), netip.AddrPortFrom(netip.AddrFrom4(r.Addr), getPort(&r.Port)), nil
	case unix.AF_INET6:
		r := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return int(n), netip.AddrPortFrom(netip.AddrFrom16(r.Addr), getPort(&r.Port)), nil
	}
	return int(n), netip.AddrPort{}, nil
}

// drain discards the datagrams queued on the socket (at most maxDrain).
func (k sock) drain() {
	if !k.ok {
		return
	}
	var b [1]byte
	for range maxDrain {
		_, _, e := syscall.Syscall6(unix.SYS_RECVFROM, uintptr(k.fd), uintptr(unsafe.Pointer(&b[0])), 1, unix.MSG_DONTWAIT, 0, 0)
		if e != 0 {
			return
		}
	}
}

// putPort and getPort store a port in network byte order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

func getPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// reactors are the engine's epoll loops.
type reactors struct {
	pairs []*pair // the pool's, by index: the events carry the index
	loops []reactorLoop
	wg    sync.WaitGroup
	once  sync.Once
}

// reactorLoop is one reactor: its epoll instance (through ep the runtime's poller watches it,
// so that an idle reactor parks like any goroutine waiting for a socket instead of holding a
// thread in epoll_wait) and the eventfd that stops it.
type reactorLoop struct {
	epfd, stopfd int
	ep           *os.File
}

// newReactors starts one reactor per GOMAXPROCS (at most 8) for the pool's pairs.
func newReactors(pairs []*pair) (*reactors, error) {
	n := min(runtime.GOMAXPROCS(0), 8)
	rs := &reactors{pairs: pairs}
	for range n {
		l, err := newReactorLoop()
		if err != nil {
			rs.closeFds()
			return nil, fmt.Errorf("start rtp reactor: %w", err)
		}
		rs.loops = append(rs.loops, l)
	}
	rs.wg.Add(len(rs.loops))
	for i := range rs.loops {
		go rs.run(rs.loops[i])
	}
	return rs, nil
}

func newReactorLoop() (reactorLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return reactorLoop{}, fmt.Errorf("epoll: %w", err)
	}
	stopfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return reactorLoop{}, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: -1}
	if err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, stopfd, &ev); err == nil {
		err = unix.SetNonblock(epfd, true) // os.NewFile hands a non-blocking fd to the poller
	}
	if err != nil {
		unix.Close(epfd)
		unix.Close(stopfd)
		return reactorLoop{}, fmt.Errorf("watch eventfd: %w", err)
	}
	return reactorLoop{epfd: epfd, stopfd: stopfd, ep: os.NewFile(uintptr(epfd), "rtp-epoll")}, nil
}

// add watches the pair's two sockets. The pair's sockets are set.
func (rs *reactors) add(pr *pair) error {
	l := rs.loops[pr.idx%len(rs.loops)]
	for kind, k := range [...]sock{pr.rtp, pr.rtcp} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(pr.idx), Pad: int32(kind)}
		if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, k.fd, &ev); err != nil {
			if kind == kindRTCP {
				unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, pr.rtp.fd, nil)
			}
			return err
		}
	}
	return nil
}

// stop ends the reactors and waits for them; the sockets may be closed once it returns.
func (rs *reactors) stop() {
	rs.once.Do(func() {
		one := [8]byte{1}
		for _, l := range rs.loops {
			unix.Write(l.stopfd, one[:])
		}
		rs.wg.Wait()
		rs.closeFds()
	})
}

// wait is a no-op: stop already waited for the reactors.
func (rs *reactors) wait() {}

func (rs *reactors) closeFds() {
	for _, l := range rs.loops {
		l.ep.Close() // closes epfd
		unix.Close(l.stopfd)
	}
	rs.loops = nil
}

// run serves one reactor until its eventfd is written. It waits for the epoll fd to be
// readable through the runtime's poller, then takes the ready sockets with non-blocking
// epoll_waits until none is left.
func (rs *reactors) run(l reactorLoop) {
	defer rs.wg.Done()
	events := make([]unix.EpollEvent, reactorEvents)
	buf := make([]byte, maxPacket)
	var (
		pkt  rtp.Packet
		rsa  unix.RawSockaddrAny
		stop bool
	)
	rc, err := l.ep.SyscallConn()
	if err != nil {
		panic(fmt.Sprintf("rtp reactor: %v", err)) // an os.File always has one
	}
	serve := func(uintptr) bool {
		for {
			n, err := unix.EpollWait(l.epfd, events, 0)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				panic(fmt.Sprintf("rtp reactor: epoll_wait: %v", err)) // a bad epoll fd: a bug
			}
			if n == 0 {
				return false // park until the epoll fd is readable again
			}
			for i := range n {
				ev := &events[i]
				if ev.Fd < 0 {
					stop = true
					return true
				}
				pr := rs.pairs[ev.Fd]
				pr.mu.Lock()
				if k := pr.sock(int(ev.Pad)); k.ok {
					if m, from, err := k.recvFrom(buf, &rsa); err == nil {
						pr.handle(int(ev.Pad), buf[:m], from, &pkt)
					}
				}
				pr.mu.Unlock()
			}
		}
	}
	for !stop {
		if err := rc.Read(serve); err != nil {
			panic(fmt.Sprintf("rtp reactor: wait for epoll: %v", err)) // closed under the reactor: a bug
		}
	}
}
