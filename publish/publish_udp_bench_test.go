package publish

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// rawAnswerer is a UDP presence server as cheap as a socket goes (as bench/rtpload presence):
// every request is answered 200 with its Via, From, To, Call-ID and CSeq, a SIP-ETag and
// Expires: 60. Its cost is the benchmark's too (same process), but small next to the client's.
func rawAnswerer(b *testing.B) string {
	b.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pc.Close() })
	var etag atomic.Int64
	go func() {
		buf := make([]byte, 65535)
		var out bytes.Buffer
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			out.Reset()
			out.WriteString("SIP/2.0 200 OK\r\n")
			for line := range strings.SplitSeq(string(buf[:n]), "\r\n") {
				if line == "" {
					break
				}
				for _, h := range [...]string{"Via:", "From:", "To:", "Call-ID:", "CSeq:"} {
					if len(line) > len(h) && strings.EqualFold(line[:len(h)], h) {
						out.WriteString(line)
						out.WriteString("\r\n")
					}
				}
			}
			fmt.Fprintf(&out, "SIP-ETag: e%d\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n", etag.Add(1))
			pc.WriteTo(out.Bytes(), from)
		}
	}()
	return pc.LocalAddr().String()
}

// udpClient is a Client sending through a real sipgo client over UDP, as sipsvc's BLF does
// (sipgo.Client.Do with ClientRequestAddVia: one client transaction per PUBLISH).
func udpClient(b *testing.B) *Client {
	b.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		b.Fatal(err)
	}
	cl, err := sipgo.NewClient(ua)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ua.Close() })
	c := New(func(ctx context.Context, req *sip.Request) (*sip.Response, error) {
		return cl.Do(ctx, req, sipgo.ClientRequestAddVia)
	}, Config{Expires: time.Hour, Max: 1 << 20})
	b.Cleanup(c.Close)
	return c
}

// blfCall is one call's BLF publications as sipsvc sends them: confirmed (an initial
// publication, refreshed) then terminated (a modification with SIP-If-Match, not refreshed).
func blfCall(ctx context.Context, c *Client, dest string, i int) error {
	body := []byte(strings.Repeat("x", 420))
	p := Publication{Key: fmt.Sprintf("sip:alice@example.com\x00call-%d", i), Entity: "sip:alice@example.com",
		Event: "dialog", ContentType: "application/dialog-info+xml", Body: body, Dest: dest, Transport: "udp"}
	if err := c.Publish(ctx, p); err != nil {
		return err
	}
	p.Expires, p.NoRefresh = time.Minute, true
	return c.Publish(ctx, p)
}

// BenchmarkPublishUDPCall is what one call's BLF costs the publish client over a real UDP
// socket and sipgo's client transactions, answered by a raw UDP server: two PUBLISHes per
// op, one after the other (a worker's latency-bound view).
func BenchmarkPublishUDPCall(b *testing.B) {
	dest := rawAnswerer(b)
	c := udpClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := blfCall(ctx, c, dest, i); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPublishUDPCallParallel is the same with W calls published at once (sipsvc's
// blfWorkers): the PUBLISH throughput W workers reach when each waits for its answer.
func BenchmarkPublishUDPCallParallel(b *testing.B) {
	for _, w := range []int{4, 16, 32} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			dest := rawAnswerer(b)
			c := udpClient(b)
			ctx := context.Background()
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(max(w/runtime.GOMAXPROCS(0), 1)) // about w goroutines
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := blfCall(ctx, c, dest, int(n.Add(1))); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
