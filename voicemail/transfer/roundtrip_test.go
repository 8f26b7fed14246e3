package transfer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/pgtest"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/fsstore"
	"github.com/sidecar-voip/sidecar/voicemail/pgstore"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
	"github.com/sidecar-voip/sidecar/voicemail/transfer"
)

var ctx = context.Background()

type snapshot struct {
	msgs      map[string]voicemail.Message // mailbox/ID -> envelope (time to the microsecond)
	audio     map[string][]byte
	greetings map[string][]byte
	next      map[string]uint64
}

func snap(t *testing.T, s transfer.Source) snapshot {
	t.Helper()
	sn := snapshot{map[string]voicemail.Message{}, map[string][]byte{}, map[string][]byte{}, map[string]uint64{}}
	boxes, err := s.Mailboxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, mb := range boxes {
		for id, m := range storetest.AllMessages(t, s, mb) {
			k := fmt.Sprintf("%s/%d", mb, id)
			m.Time = m.Time.Truncate(time.Microsecond)
			sn.msgs[k] = m
			_, a, err := s.Open(ctx, mb, id)
			if err != nil {
				t.Fatal(err)
			}
			sn.audio[k], _ = io.ReadAll(a)
			a.Close()
		}
		for _, g := range []voicemail.Greeting{voicemail.Unavail, voicemail.Busy, voicemail.Temp, voicemail.Name} {
			if a, err := s.Greeting(ctx, mb, g); err == nil {
				sn.greetings[mb+"/"+string(g)], _ = io.ReadAll(a)
				a.Close()
			}
		}
		sn.next[mb], _ = s.NextNumber(ctx, mb)
	}
	return sn
}

func same(t *testing.T, what string, a, b snapshot) {
	t.Helper()
	if len(a.msgs) != len(b.msgs) || len(a.greetings) != len(b.greetings) {
		t.Fatalf("%s: %d messages, %d greetings, want %d, %d", what, len(b.msgs), len(b.greetings), len(a.msgs), len(a.greetings))
	}
	for k, m := range a.msgs {
		if b.msgs[k] != m {
			t.Fatalf("%s: %s is %+v, want %+v", what, k, b.msgs[k], m)
		}
		if !bytes.Equal(a.audio[k], b.audio[k]) {
			t.Fatalf("%s: audio of %s differs", what, k)
		}
	}
	for k, g := range a.greetings {
		if !bytes.Equal(b.greetings[k], g) {
			t.Fatalf("%s: greeting %s differs", what, k)
		}
	}
	for k, n := range a.next {
		if b.next[k] != n {
			t.Fatalf("%s: next number of %s is %d, want %d", what, k, b.next[k], n)
		}
	}
}

// Filesystem -> PostgreSQL -> filesystem keeps numbers, folders, flags, envelopes, audio,
// greetings and the numbering; running an import twice changes nothing.
func TestRoundTrip(t *testing.T) {
	pg := pgtest.Start(t)
	src, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	when := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC)
	a := storetest.Deposit(t, src, "1001", voicemail.Envelope{CallerID: "sip:2002@x", CallerName: `Ann "A"`, Time: when}, time.Second)
	u := storetest.Deposit(t, src, "1001", voicemail.Envelope{Urgent: true, Codec: "pcma"}, 2*time.Second)
	gone := storetest.Deposit(t, src, "1001", voicemail.Envelope{}, time.Second)
	storetest.Deposit(t, src, "1001@other", voicemail.Envelope{}, time.Second)
	src.MarkRead(ctx, "1001", u.ID)
	src.Move(ctx, "1001", a.ID, voicemail.Family, -1)
	src.Delete(ctx, "1001", gone.ID) // the highest number: the next deposit must not reuse it
	r, _ := src.PutGreeting(ctx, "1001", voicemail.Busy, "pcmu", voicemail.DefaultLimits())
	r.WritePayload(storetest.Tone(4000, 7))
	if _, err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	want := snap(t, src)

	db, err := pgstore.Open(ctx, pg.NewDatabase(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := transfer.Copy(ctx, src, db)
	if err != nil || rep.Mailboxes != 2 || rep.Messages != 3 || rep.Greetings != 1 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	same(t, "in PostgreSQL", want, snap(t, db))
	if rep, err := transfer.Copy(ctx, src, db); err != nil || rep.Messages != 0 || rep.Unchanged != 3 {
		t.Fatalf("second import: %+v %v", rep, err)
	}
	same(t, "after the second import", want, snap(t, db))

	out, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if rep, err := transfer.Copy(ctx, db, out); err != nil || rep.Messages != 3 {
		t.Fatalf("export: %+v %v", rep, err)
	}
	same(t, "exported", want, snap(t, out))
	if m := storetest.Deposit(t, db, "1001", voicemail.Envelope{}, time.Second); m.ID != gone.ID+1 {
		t.Fatalf("after import the next number is %d, want %d", m.ID, gone.ID+1)
	}
	if m := storetest.Deposit(t, out, "1001", voicemail.Envelope{}, time.Second); m.ID != gone.ID+1 {
		t.Fatalf("after export the next number is %d, want %d", m.ID, gone.ID+1)
	}
	// A message moved in the source since: importing again moves it; a number the
	// destination gave to another message is a conflict, left alone.
	src.Move(ctx, "1001", a.ID, voicemail.Work, -1)
	storetest.Deposit(t, src, "1001", voicemail.Envelope{}, time.Second) // gone.ID+1 in src too, another UID
	rep, err = transfer.Copy(ctx, src, db)
	if !errors.Is(err, transfer.ErrConflict) || len(rep.Conflicts) != 1 {
		t.Fatalf("conflicting import: %+v %v", rep, err)
	}
	if _, m, _ := find(db, "1001", a.ID); m.Folder != voicemail.Work {
		t.Fatalf("moved message is in %s", m.Folder)
	}
}

func find(s voicemail.Store, mb string, id uint64) (voicemail.Audio, voicemail.Message, error) {
	m, a, err := s.Open(ctx, mb, id)
	return a, m, err
}
