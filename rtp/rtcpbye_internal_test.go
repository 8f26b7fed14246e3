package rtp

import (
	"bytes"
	"testing"

	"github.com/pion/rtcp"
)

// TestAppendBye: the RTCP BYE a closing session sends is byte for byte what rtcp.Marshal
// writes for a receiver report and a BYE of the SSRC, and building it allocates nothing.
func TestAppendBye(t *testing.T) {
	for _, ssrc := range []uint32{0, 1, 0xdeadbeef, 0xffffffff} {
		want, err := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: ssrc}, &rtcp.Goodbye{Sources: []uint32{ssrc}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendBye(nil, ssrc); !bytes.Equal(got, want) {
			t.Errorf("ssrc %#x: appendBye % x, rtcp.Marshal % x", ssrc, got, want)
		}
	}
	var buf [byeLen]byte
	if n := testing.AllocsPerRun(100, func() { appendBye(buf[:0], 7) }); n != 0 {
		t.Errorf("appendBye: %v allocations, want 0", n)
	}
}
