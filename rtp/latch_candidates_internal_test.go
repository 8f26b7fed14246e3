package rtp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestCandidateTable: the bounded candidate table keeps a run in progress when more new
// addresses arrive than it has room for, and a stranger on another port of a run's address
// does not break it.
func TestCandidateTable(t *testing.T) {
	pk := func(ssrc uint32, seq uint16) *rtp.Packet {
		return &rtp.Packet{Header: rtp.Header{Version: 2, SSRC: ssrc, SequenceNumber: seq}}
	}
	peer := netip.MustParseAddrPort("192.0.2.1:4000")
	var tab candidates
	if n := tab.count(peer, pk(1, 10), 1); n != 1 {
		t.Fatalf("first packet: run %d", n)
	}
	if n := tab.count(peer, pk(1, 11), 2); n != 2 {
		t.Fatalf("second packet: run %d", n)
	}
	// Four times as many new addresses as the table holds, each one packet.
	for i := range 4 * maxCandidates {
		from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 5000)
		if n := tab.count(from, pk(uint32(i), uint16(i)), time.Duration(3+i)); n != 1 {
			t.Fatalf("stranger %d: run %d", i, n)
		}
	}
	// Another port of the peer's address, with the run's SSRC and next sequence number.
	if n := tab.count(netip.MustParseAddrPort("192.0.2.1:4002"), pk(1, 12), 100); n != 0 {
		t.Fatalf("another port of the run's address counted: %d", n)
	}
	if n := tab.count(peer, pk(1, 12), 101); n != latchPackets {
		t.Fatalf("third packet: run %d, want %d", n, latchPackets)
	}
	used := 0
	for _, c := range tab.c {
		if c.n > 0 {
			used++
		}
	}
	if used != maxCandidates {
		t.Errorf("%d slots used, want %d", used, maxCandidates)
	}
}

// TestCandidateEviction: a full table gives way to a new address: the shortest run goes, the
// least recently heard among equals.
func TestCandidateEviction(t *testing.T) {
	var tab candidates
	addr := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 5000)
	}
	for i := range maxCandidates {
		tab.count(addr(i), &rtp.Packet{Header: rtp.Header{SSRC: 1, SequenceNumber: 1}}, time.Duration(i))
	}
	// addr(0)'s run grows to two, at the same instant as its first packet: the least recently
	// heard, but not the shortest.
	tab.count(addr(0), &rtp.Packet{Header: rtp.Header{SSRC: 1, SequenceNumber: 2}}, 0)
	tab.count(addr(99), &rtp.Packet{Header: rtp.Header{SSRC: 1, SequenceNumber: 1}}, time.Duration(60))
	runs := map[netip.AddrPort]int{}
	for _, c := range tab.c {
		runs[c.from] = c.n
	}
	if _, ok := runs[addr(1)]; ok {
		t.Errorf("the least recently heard one-packet run %s was kept: %v", addr(1), runs)
	}
	if runs[addr(0)] != 2 || runs[addr(99)] != 1 || len(runs) != maxCandidates {
		t.Errorf("runs %v: want %s at 2, %s at 1, %d in all", runs, addr(0), addr(99), maxCandidates)
	}
}
