package open

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sidecar-voip/sidecar/internal/pgtest"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/fsstore"
	"github.com/sidecar-voip/sidecar/voicemail/pgstore"
	"github.com/sidecar-voip/sidecar/voicemail/storetest"
)

func TestOpenChoosesTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, where, err := Open(ctx, "", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*fsstore.Store); !ok || where != dir || StatsOf(s) != (Stats{}) {
		t.Fatalf("empty store URL: %T %s", s, where)
	}
	if _, _, err := Open(ctx, "mysql://u:s3cret@db/x", dir, nil); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("mysql URL: %v", err)
	}

	pg := pgtest.Start(t)
	url := strings.Replace(pg.NewDatabase(t), "postgres@", "postgres:s3cret@", 1) // trust auth ignores it
	s, where, err = Open(ctx, url, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*pgstore.Store); !ok || strings.Contains(where, "s3cret") || !strings.Contains(where, "xxxxx") {
		t.Fatalf("postgres URL: %T %s", s, where)
	}
	storetest.Deposit(t, s, "1001", voicemail.Envelope{}, time.Second)
	if c, err := s.Counts(ctx, "1001"); err != nil || c.New != 1 {
		t.Fatalf("%+v %v", c, err)
	}
	if st := StatsOf(s); st.Down || st.Outages != 0 {
		t.Fatalf("stats %+v", st)
	}
	// An unreachable database: Open succeeds (a sidecar started during an outage starts),
	// operations fail with ErrUnavailable, the error without the password.
	pg.Stop(t)
	s, _, err = Open(ctx, url, dir, nil)
	if err != nil {
		t.Fatalf("database down: %v", err)
	}
	defer s.Close()
	_, err = s.Counts(ctx, "1001")
	if !errors.Is(err, voicemail.ErrUnavailable) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("database down: %v", err)
	}
	if st := StatsOf(s); !st.Down || st.Outages != 1 {
		t.Fatalf("stats while down %+v", st)
	}
	// A malformed URL still fails Open.
	if _, _, err := Open(ctx, "postgres://u:s3cret@[::1", dir, nil); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("malformed URL: %v", err)
	}
}
