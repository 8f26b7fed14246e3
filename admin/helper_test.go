package admin_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/sidecar-voip/sidecar/admin"
	"github.com/sidecar-voip/sidecar/rtp"
	"github.com/sidecar-voip/sidecar/sipsvc"
)

// fakeSIP stands in for *sipsvc.Server: counting calls is the SIP service's job, tested in
// sipsvc; here only what the endpoint does with the numbers matters.
type fakeSIP struct {
	mu       sync.Mutex
	stats    sipsvc.Stats
	draining bool
	panics   bool
}

func (f *fakeSIP) Stats() sipsvc.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panics {
		panic("stats exploded")
	}
	return f.stats
}

func (f *fakeSIP) Draining() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.draining
}

func (f *fakeSIP) set(fn func(f *fakeSIP)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// fakeMedia stands in for *rtp.Engine (the media plane is the rtp package's job).
type fakeMedia struct {
	active int
	totals rtp.Stats
}

func (f *fakeMedia) Active() int       { return f.active }
func (f *fakeMedia) Totals() rtp.Stats { return f.totals }

// startServer serves opts on a real listener on 127.0.0.1:0 and returns its base URL. The
// cleanup stops it and fails the test if Serve did not return nil in time.
func startServer(t *testing.T, opts admin.Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- admin.New(opts).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve still running 10s after its context ended")
		}
	})
	return "http://" + ln.Addr().String()
}

type response struct {
	code   int
	header http.Header
	body   string
}

func do(t *testing.T, method, url string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// parseMetrics parses a /metrics body with the Prometheus text parser.
func parseMetrics(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}
