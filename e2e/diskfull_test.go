package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sidecar-voip/sidecar/internal/reliability"
	"github.com/sidecar-voip/sidecar/mwi"
	"github.com/sidecar-voip/sidecar/rtp/codec/g711"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/fsstore"
)

// mountTmpfs mounts a tmpfs of size on a new folder of dir and unmounts it in cleanup. It
// fails the test when mounting is not permitted: the end-to-end suite runs as root (CI does).
func mountTmpfs(t *testing.T, dir, size string) string {
	t.Helper()
	mnt := filepath.Join(dir, "tmpfs")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("a full disk needs a small tmpfs, and mounting one is not permitted here (run the end-to-end suite as root): mount: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt
}

// subscribeDirect subscribes p to mailbox's message-summary straight at a sidecar (sent from
// Kamailio's trusted address, as Kamailio forwards it: the caller's template names the
// mailbox owner) and returns the final answer's status.
func (p *sipPhone) subscribeDirect(t *testing.T, sc *sidecar, owner, mailbox string) int {
	t.Helper()
	ruri := sip.Uri{Scheme: "sip", User: owner, Host: sc.ip, Port: sc.port}
	req := sip.NewRequest(sip.SUBSCRIBE, ruri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: owner, Host: domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: owner, Host: domain}})
	host, port, _ := net.SplitHostPort(p.addr)
	var portN int
	fmt.Sscan(port, &portN)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: owner, Host: host, Port: portN}})
	req.AppendHeader(sip.NewHeader("Event", mwi.Event))
	req.AppendHeader(sip.NewHeader("Accept", mwi.ContentType))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	req.AppendHeader(sip.NewHeader("X-Caller-Template", "subscriber;user="+owner))
	req.AppendHeader(sip.NewHeader("X-MailBoxId", mailbox))
	req.SetDestination(sc.addr())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err != nil {
		t.Fatalf("SUBSCRIBE message-summary: %v", err)
	}
	return res.StatusCode
}

// waitCounts reads NOTIFYs until one says want ("new/old"). The counts only grow in the
// tests that use it, so a NOTIFY on the way that says more than want is an error: MWI
// counted a message that is not there.
func (p *sipPhone) waitCounts(t *testing.T, want, what string) {
	t.Helper()
	var wantNew, gotNew int
	fmt.Sscanf(want, "%d/", &wantNew)
	for {
		got := voiceCounts(t, p.nextNotify(t, what+": MWI "+want))
		if got == want {
			return
		}
		if fmt.Sscanf(got, "%d/", &gotNew); gotNew > wantNew {
			t.Errorf("MWI NOTIFY %s: %s, more than the %s committed", what, got, want)
		}
	}
}

// Disk full while recording, in a running sidecar: [voicemail] dir on a 320 KiB tmpfs. Two
// deposits fit; six more record at once until the disk is full. Each call ends cleanly (the
// caller whose recording hit the full disk hears "goodbye" and gets a BYE; nothing of its
// recording is kept); the earlier messages stay complete and playable; once space is freed a
// deposit works again; MWI counts only committed messages.
func TestServeVoicemailDiskFull(t *testing.T) {
	requireE2E(t)
	dir := newRunDir(t)
	vmdir := mountTmpfs(t, dir, "320k")
	// A 0.5 s unavailable greeting, so that the recording starts ~3 s after the answer.
	s, err := fsstore.Open(vmdir)
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.PutGreeting(context.Background(), crashMailbox, voicemail.Unavail, "pcmu", voicemail.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if err := g.WritePCM(burstSignal(7, 0.5)); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Commit(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.WriteFile(filepath.Join(dir, "caller.ulaw"), g711.Ulaw{}.Encode(nil, burstSignal(messageSeed, 10)), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := startSidecarStore(t, dir, "sidecar", sidecar1, "", vmdir, 0, "")
	waitLog(t, sc.log, `msg="sip service listening"`, 15*time.Second)

	phone := newSIPPhone(t, "bob", "")
	if code := phone.subscribeDirect(t, sc, "bob", crashMailbox); code != 200 && code != 202 {
		t.Fatalf("SUBSCRIBE message-summary: %d", code)
	}
	phone.waitCounts(t, "0/0", "before any deposit")

	// Two deposits that fit (# after 8 s: about 4 s of audio, 32 KB each).
	early := depositCalls("deposits-early", "vm_deposit_pound.xml", 2, 8000)
	if err := early.run(t, dir, sc.addr()); err != nil {
		t.Fatalf("the first two deposits: %v", err)
	}
	phone.waitCounts(t, "2/0", "after two deposits")
	before := checkStore(t, vmdir, crashMailbox)
	if len(before) != 2 {
		t.Fatalf("%d messages after two deposits", len(before))
	}

	// 64 KB the test frees later, then six callers who would talk for 30 s (240 KB each).
	filler := filepath.Join(vmdir, ".filler")
	if err := os.WriteFile(filler, make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	const callers = 6
	fill := depositCalls("deposits-filling", "vm_deposit_either_end.xml", callers, 0)
	start := time.Now()
	if err := fill.run(t, dir, sc.addr()); err != nil {
		t.Fatalf("the deposits that filled the disk did not all end cleanly: %v\n%s", err, tail(filepath.Join(dir, "deposits-filling.err"), 20))
	}
	took := time.Since(start)
	logText, _ := os.ReadFile(sc.log)
	dropped := strings.Count(string(logText), `msg="VoiceMail: voicemail store full, message dropped"`)
	byeFromSidecar := len(received(dir, "deposits-filling", "BYE"))
	if dropped == 0 {
		t.Fatalf("no recording hit the full disk:\n%s", tail(sc.log, 40))
	}
	if byeFromSidecar != dropped {
		t.Errorf("the sidecar hung up %d calls, %d recordings were dropped for the full disk", byeFromSidecar, dropped)
	}
	after := checkStore(t, vmdir, crashMailbox)
	committed := len(after) - len(before)
	if committed+dropped != callers {
		t.Errorf("%d messages committed and %d dropped of %d deposits", committed, dropped, callers)
	}
	for _, uid := range before {
		if !strings.Contains(strings.Join(after, " "), uid) {
			t.Errorf("message %s, stored before the disk filled, is gone", uid)
		}
	}
	phone.waitCounts(t, fmt.Sprintf("%d/0", len(after)), "after the disk filled")

	// Space freed: a deposit works again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	again := depositCalls("deposit-after", "vm_deposit_pound.xml", 1, 8000)
	if err := again.run(t, dir, sc.addr()); err != nil {
		t.Fatalf("a deposit after space was freed: %v", err)
	}
	final := checkStore(t, vmdir, crashMailbox)
	if len(final) != len(after)+1 {
		t.Fatalf("%d messages after a deposit with space freed, want %d", len(final), len(after)+1)
	}
	phone.waitCounts(t, fmt.Sprintf("%d/0", len(final)), "after space was freed")
	if !sc.running() {
		t.Fatal("the sidecar exited")
	}
	reliability.Log(t, reliability.Row{
		Test:   "e2e TestServeVoicemailDiskFull",
		Thrown: fmt.Sprintf("sidecar serve with [voicemail] dir on a 320 KiB tmpfs: 2 deposits, then %d SIPp callers recording at once (30 s each) until the disk was full, then space freed and 1 more", callers),
		Did: fmt.Sprintf("%d recordings hit the full disk: the sidecar played goodbye and hung up each (BYE), dropping the recording whole; %d committed complete; all %d calls ended cleanly in %.1f s; the 2 earlier messages intact and playable; a deposit worked again once space was freed; MWI said %d/0 then %d/0, the committed messages only",
			dropped, committed, callers, took.Seconds(), len(after), len(final)),
		Lost: fmt.Sprintf("only the %d recordings that did not fit", dropped),
	})
}
