package sipsvc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
)

// A response never opens a connection. RFC 3261 18.2.2 sends the response to a request that
// came over TCP or TLS on the connection it came on; when that connection is gone, sipgo
// (serverRequestConnection) falls back to dialling the host of the top Via, a name the peer
// wrote and the sidecar never checked. In RFC 4475's dblreq over TCP (a REGISTER, then bytes
// that frame an INVITE, then garbage) sipgo closes the connection on the garbage while the
// INVITE's transaction is being created, and the INVITE's answer then went to whatever its
// Via named: intermittently, since it raced the close. The sidecar answers Kamailio, which
// keeps its connections; a response whose connection is gone is dropped instead.
//
// sipgo dials responses and requests with the same dialer, and the dial's context is the one
// thing that tells them apart: a response's is made inside sipgo from context.Background, a
// request's is the caller's. Every request the sidecar sends over a stream transport carries
// a context made by outbound (the BYE in channel.go, the MWI NOTIFYs in mwi.go, the BLF
// PUBLISH in blf.go: every s.client.Do and dialog request); the stream transports' dialer
// refuses any other dial, before the socket connects. A new request sent without it fails
// over TCP and TLS with ErrResponseDial when no connection to its target is open.

// ErrResponseDial is the error of a dial that would carry a response: the request's connection
// is closed and the sidecar does not open another one to the Via host.
var ErrResponseDial = errors.New("no connection opened for a response: the request's connection is closed")

// streamDialTimeout bounds a TCP or TLS dial for an outbound request (sipgo's default is a
// minute).
const streamDialTimeout = 10 * time.Second

type outboundKey struct{}

// outbound marks ctx as the context of a request the sidecar sends: sipgo may open a TCP or
// TLS connection for it.
func outbound(ctx context.Context) context.Context {
	return context.WithValue(ctx, outboundKey{}, true)
}

// isOutbound reports whether ctx was made by outbound.
func isOutbound(ctx context.Context) bool {
	v, _ := ctx.Value(outboundKey{}).(bool)
	return v
}

// streamDialer is the TCP and TLS transports' DialerCreate: a dialer that connects only for
// an outbound request.
func streamDialer(laddr net.Addr) net.Dialer {
	return net.Dialer{
		Timeout:   streamDialTimeout,
		LocalAddr: laddr,
		ControlContext: func(ctx context.Context, network, address string, _ syscall.RawConn) error {
			if !isOutbound(ctx) {
				return fmt.Errorf("dial %s %s: %w", network, address, ErrResponseDial)
			}
			return nil
		},
	}
}

// streamTransports is the transport layer option that installs streamDialer for TCP and TLS.
func streamTransports() sip.TransportLayerOption {
	return sip.WithTransportLayerTransports(sip.TransportsConfig{
		TCP: &sip.TransportTCP{DialerCreate: streamDialer},
		TLS: &sip.TransportTLS{TransportTCP: &sip.TransportTCP{DialerCreate: streamDialer}},
	})
}
