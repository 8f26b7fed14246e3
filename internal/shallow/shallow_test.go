package shallow_test

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/sidecar-voip/sidecar/internal/shallow"
)

// deep uses about n KB of stack.
//
//go:noinline
func deep(n int) int {
	var pad [1000]byte
	pad[n%len(pad)] = byte(n)
	if n <= 0 {
		return int(pad[0])
	}
	return deep(n-1) + int(pad[n%len(pad)])
}

// TestRunKeepsCallerStackSmall: goroutines that ran a 32 KB deep step through Run and now
// wait hold far less stack than goroutines that ran it themselves. The goroutines wait on
// a channel, as a call waits in Echo.
func TestRunKeepsCallerStackSmall(t *testing.T) {
	const n = 200
	stackPer := func(viaRun bool) uint64 {
		var ready, wg sync.WaitGroup
		var one sync.Mutex
		release := make(chan struct{})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range n {
			ready.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if viaRun {
					one.Lock() // one step at a time: one worker, whose stack is not the callers'
					shallow.Run(func() { deep(32) })
					one.Unlock()
				} else {
					deep(32)
				}
				ready.Done()
				<-release
			}()
		}
		ready.Wait()
		runtime.ReadMemStats(&after)
		close(release)
		wg.Wait()
		return (after.StackInuse - min(before.StackInuse, after.StackInuse)) / n
	}
	direct, via := stackPer(false), stackPer(true)
	t.Logf("stack per waiting goroutine: %d B direct, %d B through Run", direct, via)
	if direct < 32<<10 {
		t.Fatalf("direct: %d B per goroutine, want >= 32 KiB (the test does not grow stacks)", direct)
	}
	if via > 8<<10 {
		t.Errorf("through Run: %d B of stack per waiting goroutine, want <= 8 KiB", via)
	}
}

// TestRunPanics: a panic in f reaches the caller as a *Panic carrying the value and f's stack.
func TestRunPanics(t *testing.T) {
	boom := errors.New("boom")
	defer func() {
		r := recover()
		p, ok := r.(*shallow.Panic)
		if !ok {
			t.Fatalf("recovered %T %v, want *shallow.Panic", r, r)
		}
		if !errors.Is(p, boom) || p.Error() != "boom" {
			t.Errorf("panic %v: want boom", p)
		}
		if !strings.Contains(string(p.Stack), "shallow_test.TestRunPanics") {
			t.Errorf("stack does not name the panicking function:\n%s", p.Stack)
		}
	}()
	shallow.Run(func() { panic(boom) })
	t.Fatal("Run returned after a panic")
}

// TestRunReusesWorkers: steps run one after another take the same idle worker: the
// goroutines do not pile up.
func TestRunReusesWorkers(t *testing.T) {
	shallow.Run(func() {})
	before := runtime.NumGoroutine()
	for range 1000 {
		shallow.Run(func() { deep(8) })
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("%d goroutines after 1000 steps, %d before: workers are not reused", after, before)
	}
}

// TestRunWaits: Run returns after f, with f's writes visible.
func TestRunWaits(t *testing.T) {
	x := 0
	shallow.Run(func() { x = 42 })
	if x != 42 {
		t.Fatalf("x = %d after Run, want 42", x)
	}
}

// BenchmarkRun: the cost Run adds to a step (a goroutine, two switches, the new goroutine's
// stack growth) against calling the step directly; the step uses ~16 KB of stack, as routing
// a call does.
func BenchmarkRun(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			deep(14)
		}
	})
	b.Run("shallow", func(b *testing.B) {
		for b.Loop() {
			shallow.Run(func() { deep(14) })
		}
	})
}

// TestRunAllocatesNothing: a step costs no allocation of Run's own (its task and channel
// are pooled); only f's closure, the caller's, may allocate.
func TestRunAllocatesNothing(t *testing.T) {
	n := 0
	f := func() { n++ }
	if allocs := testing.AllocsPerRun(200, func() { shallow.Run(f) }); allocs != 0 {
		t.Errorf("Run: %v allocations per step, want 0", allocs)
	}
	if n != 201 {
		t.Errorf("f ran %d times, want 201", n)
	}
}

// TestGoWait: Go returns before f ends (f waits for the caller here) and Wait returns after
// it, with f's writes visible; a panic in f reaches Wait as a *Panic.
func TestGoWait(t *testing.T) {
	x := 0
	started := make(chan struct{})
	step := shallow.Go(func() { <-started; x = 42 })
	close(started) // Go did not wait for f: f waits for this
	step.Wait()
	if x != 42 {
		t.Fatalf("x = %d after Wait, want 42", x)
	}

	boom := errors.New("boom")
	step = shallow.Go(func() { panic(boom) })
	defer func() {
		if p, ok := recover().(*shallow.Panic); !ok || !errors.Is(p, boom) {
			t.Fatalf("recovered %v, want a *shallow.Panic with boom", p)
		}
	}()
	step.Wait()
	t.Fatal("Wait returned after a panic")
}
