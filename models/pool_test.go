package models

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
)

// fakeProber reports fixed models per host URL; hosts in down fail.
type fakeProber struct {
	mu     sync.Mutex
	models map[string][]string
	down   map[string]bool
	hung   map[string]bool // work probes on these hosts fail
	works  int             // work probes run
}

func (f *fakeProber) ProbeWork(_ context.Context, u, _ string, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.works++
	if f.hung[u] {
		return errors.New("no answer")
	}
	return nil
}

func (f *fakeProber) Probe(_ context.Context, u string) (Probe, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down[u] {
		return Probe{}, errors.New("connection refused")
	}
	p := Probe{Version: "test"}
	for _, m := range f.models[u] {
		p.Models = append(p.Models, ModelInfo{Name: m, Digest: "sha256:" + m})
	}
	return p, nil
}

func newTestPool(t *testing.T, hosts []HostConfig, models map[string][]string, opts Options) (*Pool, *fakeProber) {
	t.Helper()
	pr := &fakeProber{models: models, down: map[string]bool{}, hung: map[string]bool{}}
	p := NewPool(hosts, pr, opts, nil)
	p.CheckNow(context.Background())
	t.Cleanup(p.Close)
	return p, pr
}

func TestNormaliseModel(t *testing.T) {
	for in, want := range map[string]string{
		"tiny": "tiny:latest", "tiny:latest": "tiny:latest", "llama3:8b": "llama3:8b",
		"registry.local:5000/m": "registry.local:5000/m:latest", " x ": "x:latest", "": "",
	} {
		if got := NormaliseModel(in); got != want {
			t.Errorf("NormaliseModel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRouting(t *testing.T) {
	hosts := []HostConfig{
		{Name: "cpu1", URL: "http://cpu1", Labels: []string{"cpu"}, MaxConcurrent: 2},
		{Name: "gpu1", URL: "http://gpu1", Labels: []string{"gpu"}, MaxConcurrent: 2},
		{Name: "cpu2", URL: "http://cpu2", Labels: []string{"cpu"}, MaxConcurrent: 2},
	}
	models := map[string][]string{"http://cpu1": {"a:latest"}, "http://gpu1": {"a:latest"}, "http://cpu2": {"a:latest", "b:latest"}}
	ctx := context.Background()

	t.Run("realtime prefers GPU", func(t *testing.T) {
		p, _ := newTestPool(t, hosts, models, Options{})
		l, err := p.Acquire(ctx, "a", assist.PriorityRealtime)
		if err != nil || l.Host.Name != "gpu1" {
			t.Fatalf("got %v %v, want gpu1", l, err)
		}
	})
	t.Run("least outstanding otherwise", func(t *testing.T) {
		p, _ := newTestPool(t, hosts, models, Options{})
		seen := map[string]int{}
		for range 6 {
			l, err := p.Acquire(ctx, "a", assist.PriorityInteractive)
			if err != nil {
				t.Fatal(err)
			}
			seen[l.Host.Name]++
		}
		for _, h := range []string{"cpu1", "gpu1", "cpu2"} {
			if seen[h] != 2 {
				t.Fatalf("load not spread evenly: %v", seen)
			}
		}
	})
	t.Run("only hosts with the model", func(t *testing.T) {
		p, _ := newTestPool(t, hosts, models, Options{})
		l, err := p.Acquire(ctx, "b:latest", assist.PriorityRealtime)
		if err != nil || l.Host.Name != "cpu2" || l.Model.Digest != "sha256:b:latest" {
			t.Fatalf("got %+v %v", l, err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		p, pr := newTestPool(t, hosts, models, Options{})
		for _, tc := range []struct {
			model string
			kind  assist.Kind
		}{
			{"nope", assist.KindNotFound},
			{"", assist.KindInvalid},
		} {
			if _, err := p.Acquire(ctx, tc.model, assist.PriorityBatch); assist.KindOf(err) != tc.kind {
				t.Errorf("Acquire(%q) = %v, want %s", tc.model, err, tc.kind)
			}
		}
		pr.down["http://cpu2"] = true
		p.CheckNow(ctx)
		if _, err := p.Acquire(ctx, "b", assist.PriorityBatch); assist.KindOf(err) != assist.KindUnavailable {
			t.Errorf("model only on a down host: %v, want unavailable", err)
		}
	})
}

func TestQueueFullAndPriorityOrder(t *testing.T) {
	hosts := []HostConfig{{Name: "h", URL: "http://h", MaxConcurrent: 1}}
	opts := Options{QueueLimit: [assist.NumPriorities]int{1, 1, 2}, QueueTimeout: [assist.NumPriorities]time.Duration{time.Minute, time.Minute, time.Minute}}
	p, _ := newTestPool(t, hosts, map[string][]string{"http://h": {"m:latest"}}, opts)
	ctx := context.Background()
	hold, err := p.Acquire(ctx, "m", assist.PriorityInteractive)
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 3)
	var wg sync.WaitGroup
	enqueue := func(name string, prio assist.Priority, depth int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := p.Acquire(ctx, "m", prio)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			order <- name
			l.Release(false)
		}()
		waitFor(t, func() bool { return p.Stats().QueueDepth[prio] == depth })
	}
	enqueue("batch-1", assist.PriorityBatch, 1)
	enqueue("batch-2", assist.PriorityBatch, 2)
	if _, err := p.Acquire(ctx, "m", assist.PriorityBatch); assist.KindOf(err) != assist.KindBusy || assist.RetryAfterOf(err) < 1 {
		t.Fatalf("full batch queue: %v, want busy with a Retry-After", err)
	}
	enqueue("realtime", assist.PriorityRealtime, 1)
	hold.Release(false)
	wg.Wait()
	close(order)
	var got []string
	for n := range order {
		got = append(got, n)
	}
	if strings.Join(got, ",") != "realtime,batch-1,batch-2" {
		t.Fatalf("served in order %v", got)
	}
}

func TestQueueTimeoutAndCancel(t *testing.T) {
	hosts := []HostConfig{{Name: "h", URL: "http://h", MaxConcurrent: 1}}
	opts := Options{QueueTimeout: [assist.NumPriorities]time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}}
	p, _ := newTestPool(t, hosts, map[string][]string{"http://h": {"m:latest"}}, opts)
	hold, _ := p.Acquire(context.Background(), "m", assist.PriorityInteractive)
	if _, err := p.Acquire(context.Background(), "m", assist.PriorityInteractive); assist.KindOf(err) != assist.KindBusy {
		t.Fatalf("timed out wait: %v, want busy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Acquire(ctx, "m", assist.PriorityBatch); assist.KindOf(err) != assist.KindCanceled {
		t.Fatalf("canceled wait: %v, want canceled", err)
	}
	hold.Release(false)
	if s := p.Stats(); s.Hosts[0].InFlight != 0 || s.QueueDepth != [assist.NumPriorities]int{} {
		t.Fatalf("slots or queue leaked: %+v", s)
	}
}

func TestCircuitBreaker(t *testing.T) {
	hosts := []HostConfig{{Name: "a", URL: "http://a", MaxConcurrent: 4}, {Name: "b", URL: "http://b", MaxConcurrent: 4}}
	p, _ := newTestPool(t, hosts, map[string][]string{"http://a": {"m:latest"}, "http://b": {"m:latest"}},
		Options{BreakerThreshold: 2, BreakerCooldown: time.Hour})
	ctx := context.Background()
	for range 2 {
		l, _ := p.Acquire(ctx, "m", assist.PriorityInteractive, "b")
		l.Release(true)
	}
	for range 5 {
		l, err := p.Acquire(ctx, "m", assist.PriorityInteractive)
		if err != nil || l.Host.Name != "b" {
			t.Fatalf("host a should be out: %v %v", l, err)
		}
		l.Release(false)
	}
	if !p.Stats().Hosts[0].CircuitOpen {
		t.Fatal("breaker not reported open")
	}
}

// fakeTransport fails for hosts listed in refuse, answers others.
type fakeTransport struct {
	refuse map[string]bool
	calls  []string
}

func (f *fakeTransport) Send(_ context.Context, baseURL, path string, body []byte) (*http.Response, error) {
	f.calls = append(f.calls, baseURL)
	if f.refuse[baseURL] {
		return nil, errors.New("connection refused")
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"ok":true}`))}, nil
}

func TestForwardFailsOver(t *testing.T) {
	hosts := []HostConfig{{Name: "a", URL: "http://a", MaxConcurrent: 4}, {Name: "b", URL: "http://b", MaxConcurrent: 4}}
	p, _ := newTestPool(t, hosts, map[string][]string{"http://a": {"m:latest"}, "http://b": {"m:latest"}}, Options{})
	tr := &fakeTransport{refuse: map[string]bool{"http://a": true}}
	for range 3 {
		resp, err := p.Forward(context.Background(), tr, Call{Model: "m", Path: "/api/chat"})
		if err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(resp.Body)
		if resp.Lease.Host.Name != "b" || string(resp.First)+string(rest) != `{"ok":true}` {
			t.Fatalf("got host %s body %q", resp.Lease.Host.Name, resp.First)
		}
		resp.Finish(nil)
	}
	if s := p.Stats(); s.Hosts[0].Up {
		t.Fatal("the refusing host is still marked up")
	}
	tr.refuse["http://b"] = true
	if _, err := p.Forward(context.Background(), tr, Call{Model: "m", Path: "/api/chat"}); assist.KindOf(err) != assist.KindUnavailable {
		t.Fatalf("all hosts failing: %v, want unavailable", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNoHostEverAnswered(t *testing.T) {
	hosts := []HostConfig{{Name: "h", URL: "http://h", MaxConcurrent: 1}}
	p := NewPool(hosts, &fakeProber{down: map[string]bool{"http://h": true}}, Options{}, nil)
	p.CheckNow(context.Background())
	t.Cleanup(p.Close)
	if _, err := p.Acquire(context.Background(), "m", assist.PriorityInteractive); assist.KindOf(err) != assist.KindUnavailable {
		t.Fatalf("got %v, want unavailable while no host has answered", err)
	}
}

func TestSetHostsKeepsStateOfKeptHosts(t *testing.T) {
	hosts := []HostConfig{{Name: "a", URL: "http://a", MaxConcurrent: 1}, {Name: "b", URL: "http://b", MaxConcurrent: 1}}
	p, _ := newTestPool(t, hosts, map[string][]string{"http://a": {"m:latest"}, "http://b": {"m:latest"}, "http://c": {"m:latest"}}, Options{})
	ctx := context.Background()
	l, err := p.Acquire(ctx, "m", assist.PriorityInteractive, "b")
	if err != nil {
		t.Fatal(err)
	}
	// Reload: a stays (with a new limit), b goes, c comes.
	p.SetHosts([]HostConfig{{Name: "a", URL: "http://a", MaxConcurrent: 3}, {Name: "c", URL: "http://c", MaxConcurrent: 1}})
	s := p.Stats()
	if len(s.Hosts) != 2 || s.Hosts[0].InFlight != 1 || s.Hosts[0].Limit != 3 || !s.Hosts[0].Up || s.Hosts[1].Up {
		t.Fatalf("after reload: %+v", s.Hosts)
	}
	p.CheckNow(ctx)
	if !p.Stats().Hosts[1].Up {
		t.Fatal("the new host is not up after a health check")
	}
	l.Release(false)
	if p.Stats().Hosts[0].InFlight != 0 {
		t.Fatal("the kept host's slot was not released")
	}
}

// A request that another host can serve now never waits behind requests
// queued for a busy host, whatever their class or model.
func TestNoHeadOfLineBlocking(t *testing.T) {
	hosts := []HostConfig{{Name: "a", URL: "http://a", MaxConcurrent: 1}, {Name: "b", URL: "http://b", MaxConcurrent: 1}}
	short := 300 * time.Millisecond
	opts := Options{QueueTimeout: [assist.NumPriorities]time.Duration{short, short, short}}
	ctx := context.Background()
	for _, tc := range []struct {
		name               string
		queued, incoming   assist.Priority
		queuedM, incomingM string
	}{
		{"realtime behind realtime for another model", assist.PriorityRealtime, assist.PriorityRealtime, "a", "b"},
		{"interactive behind realtime for another model", assist.PriorityRealtime, assist.PriorityInteractive, "a", "b"},
		{"batch behind interactive for another model", assist.PriorityInteractive, assist.PriorityBatch, "a", "b"},
		{"same model, other host free", assist.PriorityRealtime, assist.PriorityRealtime, "a", "ab"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newTestPool(t, hosts, map[string][]string{"http://a": {"a:latest", "ab:latest"}, "http://b": {"b:latest", "ab:latest"}}, opts)
			hold, err := p.Acquire(ctx, "a", assist.PriorityBatch)
			if err != nil || hold.Host.Name != "a" {
				t.Fatalf("hold a: %v %v", hold, err)
			}
			waiting := make(chan error, 1)
			go func() {
				l, err := p.Acquire(ctx, tc.queuedM, tc.queued)
				if err == nil {
					l.Release(false)
				}
				waiting <- err
			}()
			waitFor(t, func() bool { return p.Stats().QueueDepth[tc.queued] == 1 })
			l, err := p.Acquire(ctx, tc.incomingM, tc.incoming)
			if err != nil || l.Host.Name != "b" {
				t.Fatalf("request servable by idle host b: %v %v, want a slot on b at once", l, err)
			}
			l.Release(false)
			hold.Release(false)
			if err := <-waiting; err != nil && assist.KindOf(err) != assist.KindBusy {
				t.Fatalf("queued request: %v", err)
			}
			if s := p.Stats(); s.IdleWhileQueued != 0 {
				t.Fatalf("pool counted %d waits beside an idle host", s.IdleWhileQueued)
			}
		})
	}
}

// When a host's breaker opens, requests only it could serve fail at once
// with a Retry-After instead of waiting out their queue timeout.
func TestBreakerFailsItsQueueAtOnce(t *testing.T) {
	hosts := []HostConfig{{Name: "a", URL: "http://a", MaxConcurrent: 1}, {Name: "b", URL: "http://b", MaxConcurrent: 1}}
	opts := Options{BreakerThreshold: 1, BreakerCooldown: time.Hour,
		QueueTimeout: [assist.NumPriorities]time.Duration{time.Hour, time.Hour, time.Hour}}
	p, _ := newTestPool(t, hosts, map[string][]string{"http://a": {"m:latest"}, "http://b": {"n:latest"}}, opts)
	hold, err := p.Acquire(context.Background(), "m", assist.PriorityInteractive)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	waiting := make(chan error, 1)
	go func() {
		_, err := p.Acquire(ctx, "m", assist.PriorityInteractive)
		waiting <- err
	}()
	waitFor(t, func() bool { return p.Stats().QueueDepth[assist.PriorityInteractive] == 1 })
	hold.Release(true) // the breaker opens
	err = <-waiting
	if assist.KindOf(err) != assist.KindUnavailable || assist.RetryAfterOf(err) < 1 {
		t.Fatalf("queued request for the failed host: %v, want unavailable with a Retry-After at once", err)
	}
	if s := p.Stats(); s.Unservable[assist.PriorityInteractive] != 1 || s.QueueDepth[assist.PriorityInteractive] != 0 {
		t.Fatalf("stats: %+v", s)
	}
}

// hangTransport answers like fakeTransport, except that hosts in hang
// never send a byte (their runner is wedged) until the request ends.
type hangTransport struct {
	mu   sync.Mutex
	hang map[string]bool
}

func (f *hangTransport) Send(ctx context.Context, baseURL, _ string, _ []byte) (*http.Response, error) {
	f.mu.Lock()
	hang := f.hang[baseURL]
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"ok":true}`))}, nil
}

// A host that accepts work but sends no first byte within the class's
// deadline counts a failure, the request fails over, and the host gets no
// work until a one-token probe succeeds on it.
func TestFirstByteDeadline(t *testing.T) {
	hosts := []HostConfig{{Name: "a", URL: "http://a", MaxConcurrent: 4}, {Name: "b", URL: "http://b", MaxConcurrent: 4}}
	opts := Options{FirstByte: [assist.NumPriorities]time.Duration{100 * time.Millisecond, time.Hour, time.Hour}}
	p, pr := newTestPool(t, hosts, map[string][]string{"http://a": {"m:latest"}, "http://b": {"m:latest"}}, opts)
	pr.hung["http://a"] = true
	tr := &hangTransport{hang: map[string]bool{"http://a": true}}
	ctx := context.Background()

	// Realtime requests land on a first (GPU-less tie broken by rotation);
	// each must end on b well before any long timeout.
	for range 4 {
		resp, err := p.Forward(ctx, tr, Call{Model: "m", Priority: assist.PriorityRealtime, Path: "/api/chat"})
		if err != nil {
			t.Fatalf("request with a wedged host beside a healthy one: %v", err)
		}
		if resp.Lease.Host.Name != "b" {
			t.Fatalf("served by %s", resp.Lease.Host.Name)
		}
		resp.Finish(nil)
	}
	s := p.Stats()
	if !s.Hosts[0].Suspect || !s.Hosts[0].Up || s.Hosts[1].Suspect || s.Hosts[0].FirstByteMisses == 0 {
		t.Fatalf("host a should be up (health checks pass) but suspect: %+v", s.Hosts)
	}
	// Health checks keep passing, but the work probe fails: still out.
	works := func() int { pr.mu.Lock(); defer pr.mu.Unlock(); return pr.works }
	waitFor(t, func() bool { p.CheckNow(ctx); return works() >= 2 })
	if !p.Stats().Hosts[0].Suspect {
		t.Fatal("a host whose work probe fails was taken back")
	}
	// The runner recovers: the next work probe takes it back.
	pr.mu.Lock()
	pr.hung["http://a"] = false
	pr.mu.Unlock()
	tr.mu.Lock()
	tr.hang["http://a"] = false
	tr.mu.Unlock()
	waitFor(t, func() bool { p.CheckNow(ctx); return !p.Stats().Hosts[0].Suspect })

	// Every host wedged: a clear timeout, not an endless wait.
	tr.mu.Lock()
	tr.hang["http://a"], tr.hang["http://b"] = true, true
	tr.mu.Unlock()
	_, err := p.Forward(ctx, tr, Call{Model: "m", Priority: assist.PriorityRealtime, Path: "/api/chat"})
	if k := assist.KindOf(err); k != assist.KindTimeout && k != assist.KindUnavailable {
		t.Fatalf("all hosts wedged: %v, want timeout or unavailable", err)
	}
}

func TestActivityByClass(t *testing.T) {
	p, _ := newTestPool(t, []HostConfig{{Name: "a", URL: "http://a", MaxConcurrent: 4}}, map[string][]string{"http://a": {"m:latest"}}, Options{})
	if busy, quiet := p.Activity(assist.PriorityBatch); busy || quiet < time.Hour {
		t.Fatalf("idle pool: busy %v quiet %v", busy, quiet)
	}
	l, err := p.Acquire(context.Background(), "m", assist.PriorityInteractive)
	if err != nil {
		t.Fatal(err)
	}
	if busy, _ := p.Activity(assist.PriorityBatch); !busy {
		t.Error("an interactive request in flight does not count")
	}
	if busy, _ := p.Activity(assist.PriorityInteractive); busy {
		t.Error("a request counts against its own class")
	}
	b, err := p.Acquire(context.Background(), "m", assist.PriorityBatch)
	if err != nil {
		t.Fatal(err)
	}
	l.Release(false)
	busy, quiet := p.Activity(assist.PriorityBatch)
	if busy || quiet > time.Minute {
		t.Errorf("after the interactive request: busy %v quiet %v", busy, quiet)
	}
	b.Release(false)
	if busy, _ := p.Activity(assist.PriorityRealtime); busy {
		t.Error("realtime has no higher class")
	}
}

type recordingTransport struct {
	mu    sync.Mutex
	hosts []string
}

func (r *recordingTransport) Send(_ context.Context, baseURL, _ string, _ []byte) (*http.Response, error) {
	r.mu.Lock()
	r.hosts = append(r.hosts, baseURL)
	r.mu.Unlock()
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"response":"ok"}`))}, nil
}

// TestForwardPinnedDigest: a call that requires a release never goes to a
// host serving another digest under the name; with none left it is a
// conflict, not a wait.
func TestForwardPinnedDigest(t *testing.T) {
	p, _ := newTestPool(t, []HostConfig{{Name: "a", URL: "http://a"}, {Name: "b", URL: "http://b"}},
		map[string][]string{"http://a": {"m:latest"}, "http://b": {"m:latest"}}, Options{})
	// The fake prober gives digest "sha256:<name>" on both; make b differ.
	p.mu.Lock()
	for _, h := range p.hosts {
		if h.cfg.Name == "b" {
			h.models["m:latest"] = ModelInfo{Name: "m:latest", Digest: "sha256:other"}
		}
	}
	p.mu.Unlock()
	tr := &recordingTransport{}
	for range 6 {
		resp, err := p.Forward(context.Background(), tr, Call{Model: "m", Digest: "sha256:m:latest", Priority: assist.PriorityInteractive, Path: "/api/generate"})
		if err != nil {
			t.Fatal(err)
		}
		resp.Finish(nil)
	}
	for _, h := range tr.hosts {
		if h != "http://a" {
			t.Fatalf("a pinned call went to %s", h)
		}
	}
	_, err := p.Forward(context.Background(), tr, Call{Model: "m", Digest: "sha256:gone", Priority: assist.PriorityInteractive, Path: "/api/generate"})
	if assist.KindOf(err) != assist.KindConflict {
		t.Errorf("no host with the release: %v", err)
	}
}

func TestRealtimeReserve(t *testing.T) {
	hosts := []HostConfig{{Name: "h", URL: "http://h", MaxConcurrent: 2, RealtimeReserve: 1}}
	opts := Options{QueueTimeout: [assist.NumPriorities]time.Duration{time.Minute, time.Minute, time.Minute}}
	p, _ := newTestPool(t, hosts, map[string][]string{"http://h": {"m:latest"}}, opts)
	ctx := context.Background()
	batch, err := p.Acquire(ctx, "m", assist.PriorityBatch)
	if err != nil {
		t.Fatal(err)
	}
	// The second slot is kept for realtime work: interactive waits...
	got := make(chan *Lease, 1)
	go func() {
		l, err := p.Acquire(ctx, "m", assist.PriorityInteractive)
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	waitFor(t, func() bool { return p.Stats().QueueDepth[assist.PriorityInteractive] == 1 })
	// ...while realtime takes it at once.
	rt, err := p.Acquire(ctx, "m", assist.PriorityRealtime)
	if err != nil {
		t.Fatal(err)
	}
	rt.Release(false)
	if p.Stats().QueueDepth[assist.PriorityInteractive] != 1 {
		t.Fatal("interactive work took the realtime slot")
	}
	batch.Release(false)
	(<-got).Release(false)
	// A reserve as large as the host is clamped: other work still runs.
	if h := normaliseHost(HostConfig{URL: "u", MaxConcurrent: 2, RealtimeReserve: 5}); h.RealtimeReserve != 1 {
		t.Fatalf("reserve %d", h.RealtimeReserve)
	}
}
