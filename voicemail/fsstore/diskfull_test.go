package fsstore

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/reliability"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

// On a real full file system: a 512 KiB tmpfs, mounted when the test runs as root (CI does).
// Recordings fill it until one fails with ErrDiskFull; that one leaves nothing behind, the
// earlier ones stay complete, and once space is freed deposits work again.
func TestDiskFullTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; TestDiskFullInjected covers the same path")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	s := open(t, dir)
	var full error
	var kept []voicemail.Message
	for i := 0; i < 100 && full == nil; i++ {
		rec, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "pcmu"}, voicemail.DefaultLimits())
		if err != nil {
			full = err
			break
		}
		for range 50 { // 20 s in 20 ms frames: 160 KB a message
			if err := rec.WritePayload(storetest.Tone(3200, 7)); err != nil {
				full = err
				break
			}
		}
		if full == nil {
			m, err := rec.Commit()
			if err != nil {
				full = err
			} else {
				kept = append(kept, m)
			}
		}
		rec.Discard()
	}
	if !errors.Is(full, voicemail.ErrDiskFull) || !errors.Is(full, syscall.ENOSPC) {
		t.Fatalf("filling the disk: %v", full)
	}
	if len(kept) == 0 {
		t.Fatal("nothing fitted before the disk was full")
	}
	ids := storetest.AllMessages(t, s, "1001")
	if len(ids) != len(kept) {
		t.Fatalf("%d messages visible, %d committed", len(ids), len(kept))
	}
	for _, m := range kept {
		_, a, err := s.Open(ctx, "1001", m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := storetest.CheckAudio(t, a); info.Samples() != 160000 {
			t.Fatalf("message %d: %+v", m.ID, info)
		}
	}
	assertNoTemp(t, dir, "1001")
	if err := s.Delete(ctx, "1001", kept[0].ID); err != nil {
		t.Fatal(err)
	}
	storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	reliability.Log(t, reliability.Row{
		Test:   "voicemail/fsstore TestDiskFullTmpfs",
		Thrown: "20 s recordings into a 512 KiB tmpfs until it is full",
		Did:    fmt.Sprintf("%d recordings committed complete; the one that hit ENOSPC failed with ErrDiskFull and left nothing; deposits work again once space is freed", len(kept)),
		Lost:   "only the recording that did not fit",
	})
}

// failingFile fails writes with ENOSPC past a byte budget, as a full disk does.
type failingFile struct {
	*os.File
	budget int
}

func (f *failingFile) Write(b []byte) (int, error) {
	if len(b) > f.budget {
		n, _ := f.File.Write(b[:f.budget])
		f.budget = 0
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	f.budget -= len(b)
	return f.File.Write(b)
}

// ENOSPC injected at the file layer (the temporary file's writes), for machines where the
// tmpfs test cannot mount.
func TestDiskFullInjected(t *testing.T) {
	s := open(t, t.TempDir())
	storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	s.openTemp = func(p string) (tempFile, error) {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
		return &failingFile{File: f, budget: 10000}, err
	}
	rec, err := s.Deposit(ctx, "1001", voicemail.Envelope{Codec: "pcmu"}, voicemail.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := 0; i < 100 && werr == nil; i++ {
		werr = rec.WritePayload(storetest.Tone(160, 0))
	}
	if !errors.Is(werr, voicemail.ErrDiskFull) || !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("write: %v", werr)
	}
	if _, err := rec.Commit(); !errors.Is(err, voicemail.ErrDiskFull) {
		t.Fatalf("commit after a failed write: %v", err)
	}
	rec.Discard()
	if ids := storetest.AllMessages(t, s, "1001"); len(ids) != 1 {
		t.Fatalf("%d messages", len(ids))
	}
	assertNoTemp(t, s.Dir(), "1001")
	reliability.Log(t, reliability.Row{
		Test:   "voicemail/fsstore TestDiskFullInjected",
		Thrown: "ENOSPC injected into a recording's writes after 10 KB",
		Did:    "the write and the commit fail with ErrDiskFull; no temporary file left; the earlier message intact",
		Lost:   "only the recording that did not fit",
	})
}
