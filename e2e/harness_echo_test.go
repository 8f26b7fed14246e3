package e2e

import (
	"strconv"
	"testing"
)

// TestEchoHarness checks the suite's own RTP echo check against SIPp's RTP echo (a stand-in
// answering *43), so that a failure of the real echo test points at the sidecar, not at the
// harness; and that it fails when nothing echoes.
func TestEchoHarness(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	var sc [2]*sipp
	var addrs []string
	for i, ip := range []string{sidecar1, sidecar2} {
		sc[i] = &sipp{name: []string{"echoing", "silent"}[i], scenario: "standin_sidecar.xml", ip: ip}
		if i == 0 {
			sc[i].extra = []string{"-rtp_echo"}
		}
		sc[i].start(t, dir)
		addrs = append(addrs, sc[i].ip+":"+strconv.Itoa(sc[i].port))
	}
	k := startKamailio(t, dir, addrs[:1])
	k.waitPool(t, map[string]string{addrs[0]: "AP"}, 10e9)
	if err := echoCall(t, dir, k, "echo-via-sipp", "alice", "alice-secret", "*43"); err != nil {
		t.Errorf("echo through SIPp's -rtp_echo: %v", err)
	}

	dir2 := newRunDir(t)
	k2 := startKamailio(t, dir2, addrs[1:])
	k2.waitPool(t, map[string]string{addrs[1]: "AP"}, 10e9)
	if err := echoCall(t, dir2, k2, "echo-via-silence", "alice", "alice-secret", "*43"); err == nil {
		t.Errorf("the echo check passed with a sidecar that echoes nothing")
	}
}
