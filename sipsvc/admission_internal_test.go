package sipsvc

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/rxstamp"
)

// The admission decision: a token bucket of max-cps (burst a fifth of a second's worth) and
// the in-flight limit, on an injected clock.
func TestAdmission(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		ms         int
		full       bool
		ok, start  bool
		overloaded bool // overloaded() right after
	}
	for _, tc := range []struct {
		name  string
		rate  int
		steps []step
	}{
		{"off admits everything", 0, []step{{0, false, true, false, false}, {0, false, true, false, false}, {0, false, true, false, false}}},
		{"burst then refuse", 10, []step{ // burst = 2
			{0, false, true, false, false}, {0, false, true, false, false},
			{0, false, false, true, true}, {1, false, false, false, true}, // one episode, logged once
			{100, false, true, false, true}, // 100 ms = one token back; still inside the hold
			{1200, false, true, false, false},
		}},
		{"new episode after the hold", 5, []step{ // burst = 1
			{0, false, true, false, false}, {10, false, false, true, true},
			{1500, false, true, false, false}, {1501, false, false, true, true},
		}},
		{"tokens cap at the burst", 10, []step{
			{0, false, true, false, false}, {10000, false, true, false, false}, {10000, false, true, false, false},
			{10000, false, false, true, true},
		}},
		{"in-flight limit refuses without holding OPTIONS", 0, []step{
			{0, true, false, true, true}, {1, false, true, false, false}, {2, true, false, false, true},
		}},
		{"in-flight refusal takes no token", 5, []step{
			{0, true, false, true, true}, {1, false, true, false, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := false
			a := newAdmission(tc.rate, func() bool { return full })
			for i, s := range tc.steps {
				full = s.full
				ok, start := a.admit(at(s.ms))
				if ok != s.ok || start != s.start {
					t.Fatalf("step %d (%d ms): admit = %v, start %v; want %v, %v", i, s.ms, ok, start, s.ok, s.start)
				}
				if got := a.overloaded(at(s.ms)); got != s.overloaded {
					t.Fatalf("step %d (%d ms): overloaded = %v, want %v", i, s.ms, got, s.overloaded)
				}
			}
		})
	}
}

// A reload with the same rate keeps the bucket; a new rate refills it.
func TestAdmissionSetRate(t *testing.T) {
	t0 := time.Unix(0, 0)
	a := newAdmission(5, nil)
	if ok, _ := a.admit(t0); !ok {
		t.Fatal("first INVITE refused")
	}
	a.setRate(5)
	if ok, _ := a.admit(t0); ok {
		t.Fatal("same rate reload refilled the bucket")
	}
	a.setRate(0)
	if ok, _ := a.admit(t0); !ok {
		t.Fatal("rate 0 refused")
	}
}

// Remembered branches are seen; the oldest are forgotten past recentInvites.
func TestAdmissionRecent(t *testing.T) {
	a := newAdmission(0, nil)
	a.remember([]byte("z9hG4bK-first"), time.Time{}, false)
	if !a.seen([]byte("z9hG4bK-first")) || a.seen([]byte("z9hG4bK-other")) || a.seen(nil) {
		t.Fatal("seen wrong")
	}
	for i := range recentInvites {
		a.remember([]byte{'b', byte(i), byte(i >> 8)}, time.Time{}, true)
	}
	if a.seen([]byte("z9hG4bK-first")) {
		t.Error("oldest branch not forgotten")
	}
	if len(a.recent) != recentInvites {
		t.Errorf("%d remembered, want %d", len(a.recent), recentInvites)
	}
	if n := a.waiting.Load(); n != recentInvites {
		t.Errorf("%d waiting, want %d (the forgotten one did not wait)", n, recentInvites)
	}
}

// The queue delay: a new INVITE is refused while the oldest admitted one without a response
// waited past half of max-queue-delay, or when it waited that long in the socket itself; a response
// ends a wait; a wait past pendingExpiry no longer counts; OPTIONS answer 503 for
// overloadHold after a refusal; max-cps and max-calls keep their own reasons.
func TestAdmissionQueueDelay(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// One late INVITE is not a queue: below minQueue waiting, nothing is refused.
	q := newAdmission(0, nil)
	q.setMaxDelay(20 * time.Millisecond)
	q.remember([]byte("late"), at(0), true)
	if ok, _, _ := q.admitAt(at(100), at(90), 0); !ok {
		t.Fatal("refused with one INVITE waiting")
	}
	// ... but a datagram that waited in the socket past socketBehind times the setting is.
	if ok, _, _ := q.admitAt(at(100), at(100-socketBehind*20), 0); !ok {
		t.Fatal("refused at exactly socketBehind times the setting")
	}
	if ok, _, reason := q.admitAt(at(100), at(100-socketBehind*20-1), 0); ok || reason != refusedDelay {
		t.Fatalf("socket wait past socketBehind times the setting: ok %v reason %q, want refused", ok, reason)
	}
	for i := range minQueue - 1 {
		q.remember([]byte{'q', byte(i)}, at(0), true)
	}
	if ok, _, reason := q.admitAt(at(100), at(100), 0); ok || reason != refusedDelay {
		t.Fatalf("%d waiting 100 ms: ok %v reason %q, want refused for the delay", minQueue, ok, reason)
	}

	a := newAdmission(0, nil)
	a.minQueue = 1                       // the timing below, with one INVITE waiting or more
	a.minLate = 1000                     // late waits: TestAdmissionLateWaits
	a.standFor = 0                       // above the target refuses at once: TestAdmissionStandingQueue
	a.setMaxDelay(40 * time.Millisecond) // refuses past half of it (queueTarget): 20 ms
	admit := func(now, arrived int, branch string, wantOK bool, wantReason string) {
		t.Helper()
		ok, _, reason := a.admitAt(at(now), at(arrived), 0)
		if ok != wantOK || reason != wantReason {
			t.Fatalf("%s at %d ms (arrived %d): ok %v reason %q; want %v %q", branch, now, arrived, ok, reason,
				wantOK, wantReason)
		}
		if ok {
			a.remember([]byte(branch), at(arrived), true)
		}
	}
	admit(0, 0, "b1", true, "")
	admit(10, 10, "b2", true, "")
	admit(20, 20, "b3", true, "") // b1 waited 20 ms: not past
	admit(21, 21, "b4", false, refusedDelay)
	if !a.overloaded(at(21)) || a.overloaded(at(521)) {
		t.Fatal("overloaded(): want true for overloadHold after the refusal, then false")
	}
	if !a.responded([]byte("b1"), at(22)) || a.responded([]byte("b1"), at(23)) || a.responded([]byte("nope"), at(23)) {
		t.Fatal("responded: want true once for an admitted INVITE only")
	}
	if d := a.queueDelay(at(25)); d != 15*time.Millisecond {
		t.Fatalf("queue delay %v after b1's answer, want 15ms (b2's)", d)
	}
	a.responded([]byte("b2"), at(26))
	a.responded([]byte("b3"), at(26))
	admit(27, 27, "b5", true, "")
	admit(28, 0, "b6", false, refusedDelay) // waited 28 ms in the socket
	if n, mean, most := a.delays(); n != 3 || most != 22*time.Millisecond || mean != 44*time.Millisecond/3 {
		t.Fatalf("delays: %d, mean %v, max %v; want 3, 14.67ms (22, 16, 6), 22ms", n, mean, most)
	}
	// b5 is never answered (dropped): past pendingExpiry it no longer holds the delay up.
	admit(100, 100, "b7", false, refusedDelay)
	late := 27 + int(pendingExpiry/time.Millisecond) + 1
	a.responded([]byte("b7"), at(late)) // refused: not remembered, not waiting
	if d := a.queueDelay(at(late)); d != 0 {
		t.Fatalf("queue delay %v past the expiry, want 0", d)
	}
	admit(late, late, "b8", true, "")
	if n := a.waiting.Load(); n != 1 {
		t.Fatalf("%d waiting, want 1 (b8)", n)
	}
	// A remembered INVITE that will not be answered (waits false) never counts.
	a.remember([]byte("b9"), at(late), false)
	a.responded([]byte("b8"), at(late))
	admit(late+100, late+100, "b10", true, "")
	// Off: nothing is refused for the delay.
	a.setMaxDelay(0)
	admit(late+1000, 0, "b11", true, "")
	// The other reasons.
	full := true
	b := newAdmission(1, func() bool { return full })
	if ok, _, reason := b.admitAt(at(0), at(0), 0); ok || reason != refusedFull {
		t.Fatalf("full: ok %v reason %q", ok, reason)
	}
	full = false
	b.admitAt(at(0), at(0), 0)
	if ok, _, reason := b.admitAt(at(0), at(0), 0); ok || reason != refusedRate || b.lastReason() != refusedRate {
		t.Fatalf("rate: ok %v reason %q", ok, reason)
	}
}

// The kernel's receive timestamp is found in a control message, and nothing else is taken
// for one.
func TestRxStamp(t *testing.T) {
	if _, ok := rxstamp.Parse(nil); ok {
		t.Fatal("stamp from nothing")
	}
	if rxstamp.Space == 0 {
		t.Skip("no receive timestamps on this system")
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rxstamp.Enable(conn)
	before := time.Now()
	if _, err := conn.WriteTo([]byte("x"), conn.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	var b [16]byte
	oob := make([]byte, rxstamp.Space)
	_, oobn, _, _, err := conn.ReadMsgUDPAddrPort(b[:], oob)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := rxstamp.Parse(oob[:oobn])
	if !ok || got.Before(before.Add(-time.Second)) || got.After(time.Now().Add(time.Second)) {
		t.Fatalf("stamp %v (%v), want about %v", got, ok, before)
	}
	if _, ok := rxstamp.Parse(oob[:oobn-1]); ok {
		t.Fatal("stamp from a truncated control message")
	}
}

// isResponseTo finds the CSeq method of a response, in any case, and only of a response.
func TestIsResponseTo(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"SIP/2.0 100 Trying\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 INVITE\r\n\r\n", true},
		{"SIP/2.0 200 OK\r\ncseq:  7   invite \r\n\r\n", true},
		{"SIP/2.0 200 OK\r\nCSeq: 2 BYE\r\n\r\n", false},
		{"SIP/2.0 200 OK\r\nCSeq: 2 REINVITE\r\n\r\n", false},
		{"INVITE sip:a@b SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n", false},
		{"SIP/2.0 200 OK\r\nX: y\r\n\r\nCSeq: 1 INVITE\r\n", false},
		{"SIP/2.0 200 OK\r\nCSeq: 1 INVITE", true},
	} {
		if got := isResponseTo([]byte(tc.in), "INVITE"); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestViaBranch(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;BRANCH=z9hG4bK1;rport\r\nVia: SIP/2.0/UDP g;branch=z9hG4bK2\r\n\r\n", "z9hG4bK1"},
		{"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\r\n", "z9hG4bKx"},
		{"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nbranch=body", ""},
	} {
		if got := string(viaBranch([]byte(tc.in))); got != tc.want {
			t.Errorf("viaBranch(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Late waits: measured waits (arrival to routing done or a final answer) past max-queue-delay
// refuse while at least minLate of them ended within the current and the previous
// lateWindow, whether or not INVITEs still wait; they stop refusing two windows later.
func TestAdmissionLateWaits(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	a := newAdmission(0, nil)
	a.setMaxDelay(20 * time.Millisecond)
	for i := range minQueue {
		b := []byte{'l', byte(i)}
		a.remember(b, at(0), true)
		if i == 0 {
			a.responded(b, at(90)) // within lateFactor times the setting: not late
			continue
		}
		a.responded(b, at(101)) // past lateFactor times the setting: late
	}
	if ok, _, _ := a.admitAt(at(101), at(101), 0); !ok {
		t.Fatalf("refused with %d late waits, want %d before refusing", minQueue-1, minQueue)
	}
	b := []byte("last")
	a.remember(b, at(5), true)
	a.responded(b, at(110))
	if ok, _, reason := a.admitAt(at(110), at(110), 0); ok || reason != refusedDelay {
		t.Fatalf("%d late waits: ok %v reason %q, want refused for the delay", minQueue, ok, reason)
	}
	if a.waiting.Load() != 0 {
		t.Fatalf("%d waiting, want 0: the late waits refuse alone", a.waiting.Load())
	}
	if ok, _, _ := a.admitAt(at(110+2*int(lateWindow/time.Millisecond)), at(310), 0); !ok {
		t.Fatal("still refused two windows after the late waits")
	}
}

// A receive queue at least backlogShed full refuses new INVITEs however few wait, while
// max-queue-delay is on; below it, or with the setting off, it does not.
func TestAdmissionSocketBacklog(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	a := newAdmission(0, nil)
	a.setMaxDelay(100 * time.Millisecond)
	if ok, _, _ := a.admitAt(t0, t0, backlogShed-0.01); !ok {
		t.Fatal("refused below backlogShed")
	}
	if ok, _, reason := a.admitAt(t0, t0, backlogShed); ok || reason != refusedDelay {
		t.Fatalf("backlog at backlogShed: ok %v reason %q, want refused for the delay", ok, reason)
	}
	if !a.overloaded(t0) {
		t.Fatal("not overloaded after a backlog refusal")
	}
	a.setMaxDelay(0)
	if ok, _, _ := a.admitAt(t0, t0, 1); !ok {
		t.Fatal("refused for the backlog with max-queue-delay off")
	}
}

// The branches of refused INVITEs are remembered (the last recentInvites), so their ACKs
// are absorbed, for ackWindow after the last refusal only.
func TestAdmissionRefusedBranches(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	a := newAdmission(0, nil)
	ack := func(branch string) []byte {
		return []byte("ACK sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=" + branch + "\r\n\r\n")
	}
	if a.wasRefused(ack("z9hG4bK-r"), t0) {
		t.Fatal("refused before any refusal")
	}
	a.refusedBranch([]byte("z9hG4bK-r"), t0)
	if !a.wasRefused(ack("z9hG4bK-r"), t0.Add(time.Second)) || a.wasRefused(ack("z9hG4bK-other"), t0) ||
		a.wasRefused([]byte("ACK sip:a@b SIP/2.0\r\n\r\n"), t0) {
		t.Fatal("wasRefused wrong")
	}
	if a.wasRefused(ack("z9hG4bK-r"), t0.Add(ackWindow+time.Millisecond)) {
		t.Fatal("ACK matched past ackWindow")
	}
	// Bounded: the set is a fixed table, and the old branches go as new ones come; nearly
	// all of the last recentInvites are still there.
	branch := func(i int) string { return fmt.Sprintf("z9hG4bK-%d", i) }
	const n = 8 * recentInvites
	for i := range n {
		a.refusedBranch([]byte(branch(i)), t0)
	}
	if a.wasRefused(ack("z9hG4bK-r"), t0) {
		t.Fatal("oldest refused branch not forgotten")
	}
	kept, old := 0, 0
	for i := range recentInvites {
		if a.wasRefused(ack(branch(n-1-i)), t0) {
			kept++
		}
		if a.wasRefused(ack(branch(i)), t0) {
			old++
		}
	}
	if kept < recentInvites*95/100 || old > recentInvites/100 {
		t.Fatalf("of the last %d refused branches %d kept, of the first %d kept; want at least 95%% and at most 1%%",
			recentInvites, kept, old)
	}
}

// A socket wait past half of max-queue-delay refuses once socketRun datagrams in a row
// waited that long (a standing backlog), not after a shorter run, and a datagram read in
// time ends the run.
func TestAdmissionSocketRun(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	a := newAdmission(0, nil)
	a.setMaxDelay(100 * time.Millisecond)
	a.standFor = 0                         // the run's duration: TestAdmissionStandingQueue
	late := t0.Add(-51 * time.Millisecond) // past half the setting
	for range socketRun - 1 {
		a.socketWait(t0, 51*time.Millisecond)
	}
	if ok, _, _ := a.admitAt(t0, late, 0); !ok {
		t.Fatalf("refused after %d late datagrams, want %d", socketRun-1, socketRun)
	}
	a.socketWait(t0, 51*time.Millisecond)
	if ok, _, _ := a.admitAt(t0, t0.Add(-50*time.Millisecond), 0); !ok {
		t.Fatal("refused an INVITE that waited exactly half the setting")
	}
	if ok, _, reason := a.admitAt(t0, late, 0); ok || reason != refusedDelay {
		t.Fatalf("%d late datagrams: ok %v reason %q, want refused for the delay", socketRun, ok, reason)
	}
	a.socketWait(t0, time.Millisecond)
	if ok, _, _ := a.admitAt(t0.Add(time.Second), late.Add(time.Second), 0); !ok {
		t.Fatal("still refused after a datagram read in time")
	}
}

// The queue delay refuses past the target (half of max-queue-delay) only once it has stayed
// above it for as long as the setting (a standing queue, not a burst or one stall), and past
// the setting itself at once; a run of late datagrams in the socket likewise refuses only once
// it has lasted that long.
func TestAdmissionStandingQueue(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	a := newAdmission(0, nil)
	a.minQueue = 1
	a.minLate = 1000
	a.setMaxDelay(100 * time.Millisecond) // target 50 ms, standing 100 ms
	admit := func(now int, branch string, wantOK bool) {
		t.Helper()
		ok, _, reason := a.admitAt(at(now), at(now), 0)
		if ok != wantOK || (!ok && reason != refusedDelay) {
			t.Fatalf("%s at %d ms: ok %v reason %q, want ok %v", branch, now, ok, reason, wantOK)
		}
		if ok {
			a.remember([]byte(branch), at(now), true)
		}
	}
	a.remember([]byte("b1"), at(0), true)
	admit(60, "b2", true) // b1 waited 60 ms: above the target since 60
	a.responded([]byte("b1"), at(100))
	admit(120, "b3", true) // b2 waited 60 ms: above for 60 ms, not yet standing
	a.responded([]byte("b2"), at(150))
	admit(170, "b4", true) // b3 waited 50 ms: not above, the episode is over
	if ok, _, _ := a.admitAt(at(230), at(230), 0); ok {
		t.Fatal("b3 waited 110 ms, past the setting: admitted, want refused at once")
	}
	a.responded([]byte("b3"), at(200))
	admit(240, "b5", true) // b4 waited 70 ms: above since 240
	a.responded([]byte("b4"), at(300))
	admit(320, "b6", true) // b5 waited 80 ms: above for 80 ms
	a.responded([]byte("b5"), at(370))
	admit(380, "b7", false) // b6 waited 60 ms: above for 140 ms, a standing queue
	a.responded([]byte("b6"), at(390))
	admit(400, "b8", true) // nothing waits: admitted again

	// A run of socketRun late datagrams refuses only once it has lasted the standing time.
	b := newAdmission(0, nil)
	b.setMaxDelay(100 * time.Millisecond)
	for range socketRun {
		b.socketWait(at(1000), 60*time.Millisecond)
	}
	if ok, _, _ := b.admitAt(at(1050), at(990), 0); !ok {
		t.Fatal("a run of late datagrams 50 ms long refused, want admitted")
	}
	if ok, _, reason := b.admitAt(at(1100), at(1040), 0); ok || reason != refusedDelay {
		t.Fatalf("a run of late datagrams 100 ms long: ok %v reason %q, want refused", ok, reason)
	}
}

// The expected wait: within an overload episode, a new INVITE is refused when the INVITEs
// already waiting, times the node's mean time per call, would hold it past max-queue-delay
// / expectTarget, though the oldest of them has not waited at all yet; idle time between
// calls is no part of the time per call.
func TestAdmissionExpectedWait(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	at := func(us int) time.Time { return t0.Add(time.Duration(us) * time.Microsecond) }
	a := newAdmission(0, nil)
	a.minLate = 1000       // late waits: TestAdmissionLateWaits
	a.standFor = time.Hour // the standing queue: TestAdmissionStandingQueue
	a.setMaxDelay(100 * time.Millisecond)
	// A busy node: one call every 2 ms, each done before the next arrives. The target is
	// max-queue-delay / expectTarget: 12.5 ms.
	if expectTarget != 8 {
		t.Fatalf("expectTarget %d: the figures below assume 8", expectTarget)
	}
	us := 0
	for i := range 1000 {
		b := []byte(fmt.Sprintf("busy%d", i))
		a.remember(b, at(us), true)
		us += 2000
		a.responded(b, at(us))
	}
	if a.service < 1900*time.Microsecond || a.service > 2*time.Millisecond {
		t.Fatalf("mean time per call %v after 1000 calls of 2 ms, want about 2ms", a.service)
	}
	// With 1.5 ms per call, 9 arrive at once: the 9th waits behind 8 (minQueue), 12 ms.
	a.service = 1500 * time.Microsecond
	for i := range 9 {
		if ok, _, reason := a.admitAt(at(us), at(us), 0); !ok {
			t.Fatalf("INVITE %d of a burst of 9 refused (%s): behind %d it expects %.1f ms", i, reason, i, 1.5*float64(i))
		}
		a.remember([]byte(fmt.Sprintf("burst%d", i)), at(us), true)
	}
	// The 10th would wait 13.5 ms: admitted while no other rule refused (a stall at a clean
	// rate), refused within an episode, while the oldest waiting has waited 0 ms.
	if ok, _, reason := a.admitAt(at(us), at(us), 0); !ok {
		t.Fatalf("10th INVITE behind 9 of 1.5 ms each with no episode: refused (%s), want admitted", reason)
	}
	a.shed = at(us - 400_000) // another rule refused 400 ms ago: an episode (overloadHold)
	if ok, _, reason := a.admitAt(at(us), at(us), 0); ok || reason != refusedDelay {
		t.Fatalf("10th INVITE behind 9 of 1.5 ms each: ok %v reason %q, want refused for the delay", ok, reason)
	}
	// The burst served, then a second idle: the next call's time is its own 1 ms, not the idle second.
	for i := range 9 {
		us += 2000
		a.responded([]byte(fmt.Sprintf("burst%d", i)), at(us))
	}
	before := a.service
	us += 1_000_000
	a.remember([]byte("after-idle"), at(us), true)
	a.responded([]byte("after-idle"), at(us+1000))
	if a.service > before {
		t.Fatalf("mean time per call %v -> %v after an idle second and a 1 ms call, want it not to grow", before, a.service)
	}
}
