package sipsvc

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"
)

// udpSenderCount is how many descriptors of a UDP listener's socket send its messages.
const udpSenderCount = 4

// udpSenders are duplicated descriptors (dup) of one UDP socket, used in turn to send.
// Go serialises the writes of one descriptor: its write lock is held for the whole sendto,
// and a goroutine coming back from the system call with no free P waits in the run queue
// still holding it. Under load every response of every call queued behind that one lock
// (see BENCHMARKS.md); the kernel socket takes parallel sends, and the datagrams leave
// from the same address and port whichever descriptor sends them.
type udpSenders struct {
	conns []*net.UDPConn
	next  atomic.Uint32
}

// newUDPSenders duplicates c's descriptor n times.
func newUDPSenders(c *net.UDPConn, n int) (*udpSenders, error) {
	s := &udpSenders{}
	for range n {
		f, err := c.File()
		if err != nil {
			return nil, errors.Join(fmt.Errorf("dup udp socket: %w", err), s.Close())
		}
		pc, err := net.FilePacketConn(f)
		f.Close()
		if err != nil {
			return nil, errors.Join(fmt.Errorf("dup udp socket: %w", err), s.Close())
		}
		s.conns = append(s.conns, pc.(*net.UDPConn))
	}
	return s, nil
}

// writeTo sends b to addr through the next descriptor.
func (s *udpSenders) writeTo(b []byte, addr net.Addr) (int, error) {
	i := s.next.Add(1) % uint32(len(s.conns))
	return s.conns[i].WriteTo(b, addr)
}

// Close closes the duplicated descriptors (the socket itself stays open until its own
// descriptor is closed too).
func (s *udpSenders) Close() error {
	var errs []error
	for _, c := range s.conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// closers closes several in order.
type closers []interface{ Close() error }

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
