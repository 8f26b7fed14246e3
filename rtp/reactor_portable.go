//go:build !linux || rtpnoepoll

package rtp

import (
	"errors"
	"net"
	"net/netip"
	"sync"

	"github.com/pion/rtp"
)

// The portable media I/O (every OS but Linux, or Linux built with the rtpnoepoll tag to test
// it): one goroutine per socket reads through the runtime's poller and runs the owner's
// handler with the pair's lock held.
//
// Here a pair does not stay bound across calls: a reader cannot drain its socket at reuse
// (it is blocked in its own read), so a pair is bound at open and closed at release as a
// fresh socket per call, and its goroutines end with it. Only the LRU order and the shared
// handler path are common with Linux.

// keepBound: a released pair closes its sockets (see above).
const keepBound = false

// sock is one UDP socket of the pool; the zero value is no socket.
type sock struct{ c *net.UDPConn }

func openSock(a netip.AddrPort) (sock, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(a))
	if err != nil {
		return sock{}, err
	}
	return sock{c: c}, nil
}

func (k sock) valid() bool { return k.c != nil }

func (k sock) close() error { return k.c.Close() }

func (k sock) port() int { return k.c.LocalAddr().(*net.UDPAddr).Port }

func (k sock) writeTo(b []byte, dst netip.AddrPort) error {
	_, err := k.c.WriteToUDPAddrPort(b, dst)
	return err
}

// drain does nothing here: every call gets fresh sockets.
func (k sock) drain() {}

// reactors are the goroutines reading the pool's sockets.
type reactors struct {
	wg sync.WaitGroup
}

func newReactors([]*pair) (*reactors, error) { return &reactors{}, nil }

// add starts one reading goroutine per socket of the pair; it ends when the socket closes.
func (rs *reactors) add(pr *pair) error {
	rs.wg.Add(2)
	go rs.read(pr, kindRTP, pr.rtp.c)
	go rs.read(pr, kindRTCP, pr.rtcp.c)
	return nil
}

// stop does nothing: the goroutines end when the pool closes the sockets.
func (rs *reactors) stop() {}

// wait waits for the reading goroutines once the sockets are closed.
func (rs *reactors) wait() { rs.wg.Wait() }

func (rs *reactors) read(pr *pair, kind int, c *net.UDPConn) {
	defer rs.wg.Done()
	buf := make([]byte, maxPacket)
	var pkt rtp.Packet
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		pr.mu.Lock()
		if k := pr.sock(kind); k.c == c { // not a datagram of the pair's previous sockets
			pr.handle(kind, buf[:n], from, &pkt)
		}
		pr.mu.Unlock()
	}
}
