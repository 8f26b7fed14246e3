package rxstamp_test

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/rxstamp"
)

// TestParseReadsTheKernelStamp: a datagram read on a socket with stamps enabled carries its
// arrival time (Linux), between the send and the read; without Enable it carries none.
func TestParseReadsTheKernelStamp(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if enabled {
			rxstamp.Enable(c)
		}
		before := time.Now()
		if _, err := c.WriteToUDP([]byte("x"), c.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
		buf, oob := make([]byte, 16), make([]byte, max(rxstamp.Space, 1))
		_, oobn, _, _, err := c.ReadMsgUDP(buf, oob)
		if err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		at, ok := rxstamp.Parse(oob[:oobn])
		want := enabled && runtime.GOOS == "linux"
		if ok != want {
			t.Fatalf("enabled=%v: Parse found a stamp: %v, want %v", enabled, ok, want)
		}
		if ok && (at.Before(before.Add(-time.Millisecond)) || at.After(after)) {
			t.Errorf("stamp %v not between the send %v and the read %v", at, before, after)
		}
	}
	if _, ok := rxstamp.Parse([]byte{1, 2, 3}); ok {
		t.Error("Parse found a stamp in 3 bytes of garbage")
	}
}
