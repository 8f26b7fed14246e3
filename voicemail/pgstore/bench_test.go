package pgstore

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sidecar-voip/sidecar/internal/pgtest"
	"github.com/sidecar-voip/sidecar/voicemail"
	"github.com/sidecar-voip/sidecar/voicemail/fsstore"
)

// message60s is the audio of a 60 s G.711 message: 480 000 bytes of payload, random so that
// no layer compresses it better than speech (a ramp compresses to a fifth under pglz).
var message60s = func() []byte {
	b := make([]byte, 60*8000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

// backendPeakKB reads the peak resident set (VmHWM) of a connection's server process.
func backendPeakKB(tb testing.TB, conn *pgx.Conn) int64 {
	var pid int
	if err := conn.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	tb.Fatal("no VmHWM")
	return 0
}

// anonSampler polls a server process's private resident memory (RssAnon) every millisecond
// and keeps the peak: the memory the backend itself allocated, shared buffers excluded.
func anonSampler(tb testing.TB, conn *pgx.Conn) (stop func() (peakKB int64)) {
	var pid int
	if err := conn.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		tb.Fatal(err)
	}
	read := func() int64 {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				return n
			}
		}
		return 0
	}
	base := read()
	done, result := make(chan struct{}), make(chan int64)
	go func() {
		peak := base
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				result <- max(peak, read()) - base
				return
			case <-t.C:
				peak = max(peak, read())
			}
		}
	}()
	return func() int64 { close(done); return <-result }
}

// BenchmarkAudioColumn decides how audio is kept: a 60 s G.711 message (480 KB) deposited
// (one transaction) and read back, as bytea in the message row vs as a large object the row
// points to, on a durable server (fsync on). deposit-ms and retrieve-ms are the mean
// latencies; backend-peak-KB is how much the peak resident memory of the server process
// serving the connection grew over the run (VmHWM, shared buffers it touched included),
// backend-anon-KB the peak of its private memory (RssAnon, sampled every millisecond) over
// its value at the start; disk-KB/msg the growth of the table holding the audio.
func BenchmarkAudioColumn(b *testing.B) {
	pg := pgtest.StartWith(b, pgtest.Options{Durable: true})
	url := pg.NewDatabase(b)
	setup, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer setup.Close(ctx)
	if _, err := setup.Exec(ctx, `CREATE TABLE bench_bytea (id bigint PRIMARY KEY, audio bytea NOT NULL);
		ALTER TABLE bench_bytea ALTER COLUMN audio SET STORAGE EXTERNAL;
		CREATE TABLE bench_lo (id bigint PRIMARY KEY, audio oid NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	for _, kind := range []string{"bytea", "largeobject"} {
		b.Run(kind, func(b *testing.B) {
			conn, err := pgx.Connect(ctx, url) // a fresh server process per variant
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close(ctx)
			rel := map[string]string{"bytea": "bench_bytea", "largeobject": "pg_largeobject"}[kind]
			var size0, size1 int64
			setup.QueryRow(ctx, "SELECT pg_total_relation_size($1::regclass)", rel).Scan(&size0)
			peak0 := backendPeakKB(b, conn)
			anon := anonSampler(b, conn)
			var dep, ret time.Duration
			id := int64(0)
			for b.Loop() {
				id++
				t0 := time.Now()
				err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
					if kind == "bytea" {
						_, err := tx.Exec(ctx, "INSERT INTO bench_bytea VALUES ($1, $2)", id, message60s)
						return err
					}
					los := tx.LargeObjects()
					oid, err := los.Create(ctx, 0)
					if err != nil {
						return err
					}
					lo, err := los.Open(ctx, oid, pgx.LargeObjectModeWrite)
					if err != nil {
						return err
					}
					for off := 0; off < len(message60s); off += 64 << 10 { // streamed in 64 KiB writes
						if _, err := lo.Write(message60s[off:min(off+64<<10, len(message60s))]); err != nil {
							return err
						}
					}
					_, err = tx.Exec(ctx, "INSERT INTO bench_lo VALUES ($1, $2)", id, oid)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				var got []byte
				if kind == "bytea" {
					err = conn.QueryRow(ctx, "SELECT audio FROM bench_bytea WHERE id = $1", id).Scan(&got)
				} else {
					err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
						var oid uint32
						if err := tx.QueryRow(ctx, "SELECT audio FROM bench_lo WHERE id = $1", id).Scan(&oid); err != nil {
							return err
						}
						los := tx.LargeObjects()
						lo, err := los.Open(ctx, oid, pgx.LargeObjectModeRead)
						if err != nil {
							return err
						}
						got, err = io.ReadAll(lo)
						return err
					})
				}
				if err != nil || len(got) != len(message60s) {
					b.Fatalf("read back %d bytes: %v", len(got), err)
				}
				ret += time.Since(t1)
				dep += t1.Sub(t0)
			}
			b.ReportMetric(float64(dep.Microseconds())/float64(b.N)/1000, "deposit-ms")
			b.ReportMetric(float64(ret.Microseconds())/float64(b.N)/1000, "retrieve-ms")
			b.ReportMetric(float64(anon()), "backend-anon-KB")
			b.ReportMetric(float64(backendPeakKB(b, conn)-peak0), "backend-peak-KB")
			defer conn.Exec(ctx, "SELECT lo_unlink(audio) FROM bench_lo; TRUNCATE bench_lo, bench_bytea")
			setup.QueryRow(ctx, "SELECT pg_total_relation_size($1::regclass)", rel).Scan(&size1)
			b.ReportMetric(float64(size1-size0)/float64(b.N)/1024, "disk-KB/msg")
		})
	}
}

// BenchmarkStores is a 60 s G.711 message deposited through voicemail.Store (20 ms frames,
// committed) and played back (Open + read), the directory store and the PostgreSQL store in
// the same run, both durable (fsync on).
func BenchmarkStores(b *testing.B) {
	pg := pgtest.StartWith(b, pgtest.Options{Durable: true})
	stores := map[string]voicemail.Store{}
	fs, err := fsstore.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	stores["fs"] = fs
	stores["pg"] = open(b, pg.NewDatabase(b), Options{})
	limits := voicemail.Limits{MaxMessages: 1 << 30, MaxDuration: 3 * time.Minute}
	for _, name := range []string{"fs", "pg"} {
		s := stores[name]
		b.Run(name, func(b *testing.B) {
			var dep, ret time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				rec, err := s.Deposit(ctx, "1001", voicemail.Envelope{CallerID: "2002", Codec: "pcmu"}, limits)
				if err != nil {
					b.Fatal(err)
				}
				for off := 0; off < len(message60s); off += 160 {
					if err := rec.WritePayload(message60s[off : off+160]); err != nil {
						b.Fatal(err)
					}
				}
				m, err := rec.Commit()
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				_, a, err := s.Open(ctx, "1001", m.ID)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, a)
				a.Close()
				if err != nil || n < int64(len(message60s)) {
					b.Fatalf("read %d: %v", n, err)
				}
				ret += time.Since(t1)
				dep += t1.Sub(t0)
				if err := s.Delete(ctx, "1001", m.ID); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(dep.Microseconds())/float64(b.N)/1000, "deposit-ms")
			b.ReportMetric(float64(ret.Microseconds())/float64(b.N)/1000, "retrieve-ms")
		})
	}
}
