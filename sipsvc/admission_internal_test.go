package sipsvc

import (
	"testing"
	"time"
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
	a.remember([]byte("z9hG4bK-first"))
	if !a.seen([]byte("z9hG4bK-first")) || a.seen([]byte("z9hG4bK-other")) || a.seen(nil) {
		t.Fatal("seen wrong")
	}
	for i := range recentInvites {
		a.remember([]byte{'b', byte(i), byte(i >> 8)})
	}
	if a.seen([]byte("z9hG4bK-first")) {
		t.Error("oldest branch not forgotten")
	}
	if len(a.recent) != recentInvites {
		t.Errorf("%d remembered, want %d", len(a.recent), recentInvites)
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
