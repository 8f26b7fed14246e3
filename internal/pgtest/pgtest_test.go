package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartStopStart(t *testing.T) {
	s := Start(t)
	url := s.NewDatabase(t)
	ctx := context.Background()
	query := func() error {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		var one int
		return c.QueryRow(ctx, "SELECT 1").Scan(&one)
	}
	if err := query(); err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	if err := query(); err == nil {
		t.Fatal("a query succeeded on a stopped server")
	}
	s.Start(t)
	if err := query(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
