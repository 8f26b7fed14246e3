package subs

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func sub(callID, mailbox string, exp time.Time) Sub {
	return Sub{Dialog: Dialog{CallID: callID, LocalTag: "l", RemoteTag: "r", RouteSet: []string{"<sip:k;lr>"}},
		Mailbox: mailbox, Expires: exp}
}

func TestTableBoundAndIndexes(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tb := New(2)
	if err := tb.Add(sub("a", "100", t0)); err != nil {
		t.Fatal(err)
	}
	if err := tb.Add(sub("a", "100", t0)); !errors.Is(err, ErrExists) {
		t.Fatalf("same dialog twice: %v, want ErrExists", err)
	}
	if err := tb.Add(sub("b", "100", t0)); err != nil {
		t.Fatal(err)
	}
	if err := tb.Add(sub("c", "200", t0)); !errors.Is(err, ErrFull) {
		t.Fatalf("third of 2: %v, want ErrFull", err)
	}
	ids := tb.ForMailbox("100")
	slices.Sort(ids)
	if want := []string{sub("a", "", t0).Dialog.ID(), sub("b", "", t0).Dialog.ID()}; !slices.Equal(ids, want) {
		t.Fatalf("ForMailbox = %q, want %q", ids, want)
	}
	if tb.Watched("200") || !tb.Watched("100") {
		t.Fatal("Watched wrong")
	}
	if _, ok := tb.Remove(sub("a", "", t0).Dialog.ID()); !ok {
		t.Fatal("Remove a: not held")
	}
	if err := tb.Add(sub("c", "200", t0)); err != nil {
		t.Fatalf("after a removal: %v", err)
	}
	if tb.Len() != 2 {
		t.Fatalf("Len %d", tb.Len())
	}
}

func TestTableExpiryAndRefresh(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tb := New(10)
	_ = tb.Add(sub("a", "100", t0.Add(60*time.Second)))
	_ = tb.Add(sub("b", "100", t0.Add(120*time.Second)))
	if got := tb.Expired(t0.Add(59 * time.Second)); len(got) != 0 {
		t.Fatalf("expired early: %v", got)
	}
	idB := sub("b", "", t0).Dialog.ID()
	if _, err := tb.Refresh(idB, t0.Add(300*time.Second)); err != nil {
		t.Fatal(err)
	}
	got := tb.Expired(t0.Add(200 * time.Second))
	if len(got) != 1 || got[0].Dialog.CallID != "a" {
		t.Fatalf("expired at 200s: %+v, want a only", got)
	}
	if _, err := tb.Refresh(sub("a", "", t0).Dialog.ID(), t0.Add(time.Hour)); !errors.Is(err, ErrUnknown) {
		t.Fatalf("refresh of an expired subscription: %v, want ErrUnknown", err)
	}
	if got := tb.Expired(t0.Add(300 * time.Second)); len(got) != 1 || tb.Watched("100") {
		t.Fatalf("expired at 300s: %+v, watched %v", got, tb.Watched("100"))
	}
}

func TestTableCSeq(t *testing.T) {
	tb := New(1)
	s := sub("a", "100", time.Unix(2000, 0))
	_ = tb.Add(s)
	for want := uint32(1); want <= 3; want++ {
		got, cseq, ok := tb.NextCSeq(s.Dialog.ID())
		if !ok || cseq != want || got.CSeq != want {
			t.Fatalf("NextCSeq = %d (%d) %v, want %d", cseq, got.CSeq, ok, want)
		}
	}
	got, _ := tb.Remove(s.Dialog.ID())
	if got.CSeq != 3 {
		t.Fatalf("removed CSeq %d, want 3", got.CSeq)
	}
	if _, _, ok := tb.NextCSeq(s.Dialog.ID()); ok {
		t.Fatal("NextCSeq of a removed subscription")
	}
	got.Dialog.RouteSet[0] = "changed"
	if again, _ := tb.Get(s.Dialog.ID()); again.Dialog.RouteSet != nil {
		t.Fatal("Get after Remove")
	}
}
