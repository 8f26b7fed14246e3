package sip

// sidecar patch test: a server transaction's FSM states are named by serverFsmState, so a
// transition allocates nothing (upstream: a method value bound to the transaction each).

import (
	"net"
	"testing"
)

// discardConn is a Connection that sends nothing.
type discardConn struct{}

func (discardConn) LocalAddr() net.Addr    { return &net.UDPAddr{} }
func (discardConn) WriteMsg(Message) error { return nil }
func (discardConn) Ref(int) int            { return 1 }
func (discardConn) TryClose() (int, error) { return 1, nil }
func (discardConn) Close() error           { return nil }

func TestServerTxTransitionsNoAllocSidecar(t *testing.T) {
	req, _, _ := testCreateInvite(t, "sip:127.0.0.99:5060", "TCP", "127.0.0.2:5060")
	req.SetTransport("TCP") // reliable: no retransmission timers
	ringing := NewResponseFromRequest(req, 180, "Ringing", nil)
	tx := NewServerTx("k", req, discardConn{}, DefaultLogger())
	if err := tx.Init(); err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	// 1xx in Proceeding: the transition to the same state, the response sent.
	if n := testing.AllocsPerRun(100, func() {
		if err := tx.Respond(ringing); err != nil {
			t.Fatal(err)
		}
	}); n > 0 {
		t.Fatalf("a provisional response through the FSM: %.0f allocations, want 0", n)
	}
	if err := compareFunctions(tx.currentFsmState(), tx.inviteStateProcceeding); err != nil {
		t.Fatal(err)
	}
}

// TestServerTxInitNoMethodValueSidecar: a server transaction's FSM spins through
// spinState without baseTx's fsmState, which binding the method value allocated once per
// transaction (fails without the change: fsmState set, Init allocates).
func TestServerTxInitNoMethodValueSidecar(t *testing.T) {
	req, _, _ := testCreateInvite(t, "sip:127.0.0.99:5060", "TCP", "127.0.0.2:5060")
	req.SetTransport("TCP")
	tx := NewServerTx("k", req, discardConn{}, DefaultLogger())
	tx.noTimer1xx = true
	if n := testing.AllocsPerRun(100, func() {
		if err := tx.Init(); err != nil {
			t.Fatal(err)
		}
	}); n > 0 {
		t.Errorf("Init: %.0f allocations, want 0", n)
	}
	if tx.fsmState != nil {
		t.Error("baseTx.fsmState set: the FSM runs through a bound method value")
	}
	// The FSM still runs: a 200 takes the INVITE to Accepted.
	if err := tx.Respond(NewResponseFromRequest(req, StatusOK, "OK", nil)); err != nil {
		t.Fatal(err)
	}
	if err := compareFunctions(tx.currentFsmState(), tx.inviteStateAccepted); err != nil {
		t.Fatal(err)
	}
	tx.Terminate()
}
