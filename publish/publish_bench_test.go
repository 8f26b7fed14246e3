package publish

import (
	"context"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// BenchmarkPublishModify is the client's own cost per PUBLISH (the request built, sized and
// answered in process, no transaction): one call's dialog state, modified as BLF does.
func BenchmarkPublishModify(b *testing.B) {
	c := New(func(ctx context.Context, req *sip.Request) (*sip.Response, error) {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("SIP-ETag", "e1"))
		res.AppendHeader(sip.NewHeader("Expires", "60"))
		return res, nil
	}, Config{Max: 10})
	p := Publication{Key: "k", Entity: "sip:1001@example.com", Event: "dialog", ContentType: "application/dialog-info+xml",
		Body: []byte(strings.Repeat("x", 420)), Dest: "127.0.0.1:5070", Transport: "udp"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Publish(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	c.Close()
}
