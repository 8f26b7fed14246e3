//go:build linux && !386

package sipsvc

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// backlogGauge reads how full a UDP socket's receive queue is. Made once per socket and
// used by its one reading goroutine: a read allocates nothing. The figure is read at most
// once per batch of datagrams (fresh until next resets it): one getsockopt per batch, not
// per INVITE.
type backlogGauge struct {
	raw   syscall.RawConn
	mem   [unix.SK_MEMINFO_VARS]uint32
	n     uint32
	fill  float64
	fresh bool
	fn    func(fd uintptr)
}

// newBacklogGauge returns the gauge of c (nil when its descriptor cannot be reached).
func newBacklogGauge(c *net.UDPConn) *backlogGauge {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	g := &backlogGauge{raw: raw}
	g.fn = g.control
	return g
}

// read returns the bytes the receive queue holds over its buffer size (SO_MEMINFO:
// SK_MEMINFO_RMEM_ALLOC over SK_MEMINFO_RCVBUF), 0 when unknown: one getsockopt. Linux
// releases UDP read memory in batches of up to a quarter of the buffer while datagrams
// remain queued, so the figure may be up to a quarter above what is really queued.
// The figure is read once until next is called.
func (g *backlogGauge) read() float64 {
	if g == nil {
		return 0
	}
	if !g.fresh {
		g.fill = 0
		_ = g.raw.Control(g.fn)
		g.fresh = true
	}
	return g.fill
}

// next starts a new batch: the next read asks the kernel again.
func (g *backlogGauge) next() {
	if g != nil {
		g.fresh = false
	}
}

func (g *backlogGauge) control(fd uintptr) {
	g.n = uint32(unsafe.Sizeof(g.mem))
	_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, unix.SOL_SOCKET, unix.SO_MEMINFO,
		uintptr(unsafe.Pointer(&g.mem[0])), uintptr(unsafe.Pointer(&g.n)), 0)
	if errno != 0 || g.mem[unix.SK_MEMINFO_RCVBUF] == 0 {
		return
	}
	g.fill = float64(g.mem[unix.SK_MEMINFO_RMEM_ALLOC]) / float64(g.mem[unix.SK_MEMINFO_RCVBUF])
}
