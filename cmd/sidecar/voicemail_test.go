package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/pgtest"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/fsstore"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

// vm runs "sidecar voicemail ARGS".
func vm(args ...string) (int, string, string) {
	return runCmd(append([]string{"voicemail"}, args...), "")
}

// migrate, import and export through the command line, with the store from the settings.
func TestVoicemailCommand(t *testing.T) {
	if code, _, errOut := vm(); code != 2 || !strings.Contains(errOut, "usage: sidecar voicemail migrate") {
		t.Fatalf("no subcommand: %d %s", code, errOut)
	}
	if code, _, errOut := vm("migrate", "-config", writeINI(t, "")); code != 1 || !strings.Contains(errOut, "no postgres:// store configured") {
		t.Fatalf("migrate without a database: %d %s", code, errOut)
	}
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	ini := writeINI(t, "[voicemail]\nstore = "+url+"\n")
	if code, out, errOut := vm("migrate", "-config", ini); code != 0 || !strings.Contains(out, "migrated to version 1 (applied [1])") {
		t.Fatalf("migrate: %d %s %s", code, out, errOut)
	}
	if code, out, _ := vm("migrate", "-store", url); code != 0 || !strings.Contains(out, "schema is current: version 1") {
		t.Fatalf("migrate again: %d %s", code, out)
	}

	src := t.TempDir()
	fs, err := fsstore.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Deposit(t, fs, "1001", voicemail.Envelope{CallerID: "2002"}, time.Second)
	m := storetest.Deposit(t, fs, "1001", voicemail.Envelope{}, time.Second)
	fs.MarkRead(context.Background(), "1001", m.ID)
	fs.Close()
	for i, want := range []string{"2 messages copied, 0 already there", "0 messages copied, 2 already there"} {
		code, out, errOut := vm("import", "-config", ini, src)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("import %d: %d %s %s", i, code, out, errOut)
		}
	}
	dst := t.TempDir()
	if code, out, errOut := vm("export", "-config", ini, dst); code != 0 || !strings.Contains(out, "1 mailboxes, 2 messages copied") {
		t.Fatalf("export: %d %s %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dst, "1001", "Old", "0000000002.wav")); err != nil {
		t.Fatalf("exported message 2 not in Old: %v", err)
	}
}

func writeINI(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sidecar.ini")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
