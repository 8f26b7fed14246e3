package sipsvc_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sidecar-voip/sidecar/config"
)

// streamUAC talks SIP over one TCP or TLS connection.
type streamUAC struct {
	peer
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func newStreamUAC(t *testing.T, conn net.Conn, srv netip.AddrPort, transport string) *streamUAC {
	t.Helper()
	t.Cleanup(func() { conn.Close() })
	local := netip.MustParseAddrPort(conn.LocalAddr().String())
	return &streamUAC{peer: peer{srv: srv, local: local, transport: transport}, t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (u *streamUAC) send(text string) {
	u.t.Helper()
	if _, err := io.WriteString(u.conn, text); err != nil {
		u.t.Fatal(err)
	}
}

// final reads messages until a final response.
func (u *streamUAC) final(timeout time.Duration) *sip.Response {
	u.t.Helper()
	// At least minWait: these are deadlines for an event that must come, so a longer one only
	// slows a failing test, while a short one failed on a loaded CI machine.
	timeout = max(timeout, minWait)
	u.conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		var head strings.Builder
		length := 0
		for {
			line, err := u.r.ReadString('\n')
			if err != nil {
				u.t.Fatalf("read: %v", err)
			}
			head.WriteString(line)
			if line == "\r\n" {
				break
			}
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Content-Length") {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(u.r, body); err != nil {
			u.t.Fatal(err)
		}
		m, err := sip.ParseMessage(append([]byte(head.String()), body...))
		if err != nil {
			u.t.Fatalf("parse: %v", err)
		}
		if r, ok := m.(*sip.Response); ok && r.StatusCode >= 200 {
			return r
		}
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and ::1 and returns its files
// and a pool trusting it.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sidecar test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func hasIPv6Loopback() bool {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Every transport and address family answers OPTIONS and runs calls: UDP, TCP and TLS on
// IPv4, UDP and TCP on [::1].
func TestTransports(t *testing.T) {
	certFile, keyFile, pool := writeCert(t)
	v6 := hasIPv6Loopback()
	e := startEnv(t, func(c *config.Config) {
		lo := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0)
		c.SIP.Listen = append(c.SIP.Listen, config.Listen{Transport: "tls", Addr: lo})
		if v6 {
			lo6 := netip.AddrPortFrom(netip.IPv6Loopback(), 0)
			c.SIP.Listen = append(c.SIP.Listen, config.Listen{Transport: "udp", Addr: lo6},
				config.Listen{Transport: "tcp", Addr: lo6})
			c.SIP.Trusted = config.MustParseTrustList("127.0.0.0/8, ::1")
		}
		c.SIP.TLSCert, c.SIP.TLSKey = certFile, keyFile
	})
	for _, l := range e.srv.Addrs() {
		if l.Addr.Port() == 0 {
			t.Errorf("listener %s reports port 0", l)
		}
	}
	type client interface {
		text(*msg) string
		ackNon2xx(msg, *sip.Response) string
		send(string)
		final(time.Duration) *sip.Response
	}
	for _, l := range e.srv.Addrs() {
		t.Run(l.String(), func(t *testing.T) {
			var c client
			switch l.Transport {
			case "udp":
				c = newRawUAC(t, l.Addr.Addr().String(), l.Addr)
			case "tcp":
				conn, err := net.Dial("tcp", l.Addr.String())
				if err != nil {
					t.Fatal(err)
				}
				c = newStreamUAC(t, conn, l.Addr, "TCP")
			case "tls":
				conn, err := tls.Dial("tcp", l.Addr.String(), &tls.Config{RootCAs: pool})
				if err != nil {
					t.Fatal(err)
				}
				c = newStreamUAC(t, conn, l.Addr, "TLS")
			}
			c.send(c.text(&msg{method: "OPTIONS", ruri: "sip:" + l.Addr.String()}))
			res := c.final(2 * time.Second)
			if res.StatusCode != 200 {
				t.Fatalf("OPTIONS: got %d", res.StatusCode)
			}
			checkAllowAccept(t, res)
			inv := msg{method: "INVITE", ruri: "sip:busy@" + l.Addr.String(), toUser: "busy", body: offerSDP,
				headers: []string{"X-Caller-Template: sub"}}
			c.send(c.text(&inv))
			res = c.final(2 * time.Second)
			if res.StatusCode != 486 {
				t.Fatalf("INVITE busy: got %d, want 486", res.StatusCode)
			}
			c.send(c.ackNon2xx(inv, res))
		})
	}
}

// A listener that cannot be bound makes Serve fail with the listener named.
func TestListenError(t *testing.T) {
	busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := config.Default()
	cfg.SIP.Listen = []config.Listen{{Transport: "udp", Addr: busy.LocalAddr().(*net.UDPAddr).AddrPort()}}
	srv, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Serve(t.Context())
	if err == nil || !strings.Contains(err.Error(), "udp:"+busy.LocalAddr().String()) {
		t.Fatalf("Serve on a taken port: %v, want an error naming the listener", err)
	}
}
