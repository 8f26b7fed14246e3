package sipsvc

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"

	"github.com/sidecar-voip/sidecar/config"
)

// udpReadBuffer is the receive buffer asked for each UDP socket. The kernel default
// (~208 KiB) overflows in call bursts of a few thousand per second; the drops then show up
// as retransmissions (see docs/sip-service.md).
const udpReadBuffer = 4 << 20

// listen binds every configured listener and starts serving it. On error the listeners
// already bound stay in s.closers for the caller to close.
func (s *Server) listen() error {
	for _, l := range s.cfg.Listen {
		bound, closer, err := s.bind(l)
		if err != nil {
			return fmt.Errorf("listen %s: %w", l, err)
		}
		s.mu.Lock()
		s.addrs = append(s.addrs, bound)
		s.closers = append(s.closers, closer)
		s.mu.Unlock()
	}
	return nil
}

// bind binds one listener and starts its serving goroutine. sipgo gets the socket through
// the trust filter (filter.go): untrusted datagrams and connections never reach it.
func (s *Server) bind(l config.Listen) (config.Listen, io.Closer, error) {
	network := func(base string) string {
		if l.Addr.Addr().Unmap().Is4() {
			return base + "4"
		}
		return base + "6"
	}
	switch l.Transport {
	case "udp":
		conn, err := net.ListenUDP(network("udp"), net.UDPAddrFromAddrPort(l.Addr))
		if err != nil {
			return l, nil, err
		}
		if got, err := setReadBuffer(conn, udpReadBuffer); err != nil {
			s.log.Warn("cannot enlarge UDP receive buffer", "addr", l.Addr, "error", err)
		} else if got < udpReadBuffer {
			s.log.Warn("UDP receive buffer smaller than asked: raise net.core.rmem_max "+
				"(sysctl -w net.core.rmem_max=4194304), or call bursts are dropped by the kernel",
				"addr", l.Addr, "asked", udpReadBuffer, "got", got)
		}
		bound := config.Listen{Transport: "udp", Addr: addrPortOf(conn.LocalAddr())}
		send, err := newUDPSenders(conn, udpSenderCount)
		if err != nil {
			conn.Close()
			return l, nil, err
		}
		filtered := &trustPacketConn{UDPConn: conn, gate: s.newTrustGate(), send: send, admit: s, log: s.log}
		go s.serveLoop(bound, func() error { return s.srv.ServeUDP(filtered) })
		return bound, closers{send, conn}, nil
	case "tcp", "tls":
		ln, err := net.ListenTCP(network("tcp"), net.TCPAddrFromAddrPort(l.Addr))
		if err != nil {
			return l, nil, err
		}
		bound := config.Listen{Transport: l.Transport, Addr: addrPortOf(ln.Addr())}
		// Untrusted peers are closed below TLS: they never get a handshake.
		filtered := &trustListener{TCPListener: ln, gate: s.newTrustGate(), what: l.Transport + " connection",
			idle: streamIdleTimeout, log: s.log}
		if l.Transport == "tcp" {
			go s.serveLoop(bound, func() error { return s.srv.ServeTCP(filtered) })
			return bound, ln, nil
		}
		if s.tlsConf == nil {
			ln.Close()
			return l, nil, errors.New("tls listener without tls-cert and tls-key")
		}
		tl := tls.NewListener(filtered, s.tlsConf)
		go s.serveLoop(bound, func() error { return s.srv.ServeTLS(tl) })
		return bound, tl, nil
	}
	return l, nil, fmt.Errorf("unknown transport %q", l.Transport)
}

// setReadBuffer asks for an n-byte receive buffer on c and returns the size the kernel
// granted (SO_RCVBUF read back; Linux caps the request at net.core.rmem_max and reports
// twice what it grants, its bookkeeping overhead included).
func setReadBuffer(c *net.UDPConn, n int) (int, error) {
	if err := c.SetReadBuffer(n); err != nil {
		return 0, err
	}
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("read back receive buffer: %w", err)
	}
	var got int
	var gerr error
	if err := raw.Control(func(fd uintptr) {
		got, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	}); err != nil {
		return 0, fmt.Errorf("read back receive buffer: %w", err)
	}
	if gerr != nil {
		return 0, fmt.Errorf("read back receive buffer: %w", gerr)
	}
	return got, nil
}

// serveLoop runs one listener's serve function and logs an unexpected end.
func (s *Server) serveLoop(l config.Listen, serve func() error) {
	defer s.recoverGo("serve " + l.String())
	err := serve()
	if err != nil && !errors.Is(err, net.ErrClosed) && !s.draining.Load() {
		s.log.Error("sip listener stopped", "listen", l.String(), "error", err)
	}
}

// closeListeners closes every bound listener.
func (s *Server) closeListeners() {
	s.mu.Lock()
	closers := s.closers
	s.closers = nil
	s.mu.Unlock()
	for _, c := range closers {
		_ = c.Close()
	}
}

// loadTLS reads the certificate and key of the [sip] section; nil when no listener is tls.
func loadTLS(c *config.SIP) (*tls.Config, error) {
	need := false
	for _, l := range c.Listen {
		need = need || l.Transport == "tls"
	}
	if !need {
		return nil, nil
	}
	if c.TLSCert == "" || c.TLSKey == "" {
		return nil, errors.New("tls listener without tls-cert and tls-key")
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("load tls certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func addrPortOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
