package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/models/ollama/ollamatest"
)

type hostsStatus struct {
	Hosts []struct {
		Name     string `json:"name"`
		Up       bool   `json:"up"`
		InFlight int    `json:"in_flight"`
	} `json:"hosts"`
	QueueDepth map[string]int `json:"queue_depth"`
}

func (g *gateway) hosts(t testing.TB) hostsStatus {
	t.Helper()
	var s hostsStatus
	body := readAll(t, g.do(t, assist.RoleAdmin, "GET", "/v1/admin/hosts", ""))
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("hosts: %v: %s", err, body)
	}
	return s
}

func (g *gateway) waitHost(t testing.TB, name string, up bool, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, h := range g.hosts(t).Hosts {
			if h.Name == name && h.Up == up {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("host %s did not become up=%v within %s", name, up, within)
}

// outcome of one streamed chat through the gateway.
type outcome struct {
	status   int
	chunks   int    // NDJSON lines with content received
	done     bool   // the final "done": true line arrived
	errKind  string // in-band error kind, if any
	errorMsg string
}

func streamChat(ctx context.Context, g *gateway, numPredict int) outcome {
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":%q}],"options":{"num_predict":%d,"seed":7}}`,
		testModel(), promptMarker, numPredict)
	req, _ := http.NewRequestWithContext(ctx, "POST", g.URL+"/api/chat", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+g.Tokens[assist.RoleClinician])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return outcome{errorMsg: err.Error()}
	}
	defer resp.Body.Close()
	o := outcome{status: resp.StatusCode}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var line struct {
			Done  bool   `json:"done"`
			Error string `json:"error"`
			Kind  string `json:"kind"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			o.errorMsg = "unparseable line"
			return o
		}
		switch {
		case line.Error != "":
			o.errKind, o.errorMsg = line.Kind, line.Error
		case line.Done:
			o.done = true
		default:
			o.chunks++
		}
	}
	if err := sc.Err(); err != nil && o.errorMsg == "" {
		o.errorMsg = err.Error()
	}
	return o
}

func TestFailoverWhenAHostStops(t *testing.T) {
	t.Parallel()
	s1 := ollamatest.Start(t)
	s2 := ollamatest.Start(t)
	g := startGateway(t, hostYAML("s1", s1.URL, 4)+hostYAML("s2", s2.URL, 4),
		// A generous queue deadline: on a loaded machine the surviving host
		// is slow, and a queue timeout (429) is not what this test is about.
		"health:\n  interval: 300ms\n  breaker_cooldown: 1s\nqueues:\n  interactive: {limit: 256, timeout: 5m}\n")
	// Warm both hosts so the model is loaded and streams start fast.
	for range 4 {
		if o := streamChat(context.Background(), g, 4); !o.done {
			t.Fatalf("warm-up failed: %+v", o)
		}
	}

	const workers, perWorker = 12, 4
	var mu sync.Mutex
	var outcomes []outcome
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range perWorker {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				o := streamChat(ctx, g, 600)
				cancel()
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		}()
	}
	close(start)
	time.Sleep(700 * time.Millisecond)
	if err := s1.Kill(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	var ok, midStream int
	for i, o := range outcomes {
		switch {
		case o.done && o.errorMsg == "":
			ok++
		case o.chunks > 0 && o.errKind == string(assist.KindUpstream):
			midStream++ // had started streaming: a clear in-band error
		default:
			t.Errorf("request %d failed although it had not started streaming: %+v", i, o)
		}
	}
	t.Logf("%d requests: %d completed, %d cut mid-stream with a clear error", len(outcomes), ok, midStream)
	if ok == 0 {
		t.Fatal("no request completed")
	}
	g.waitHost(t, "s1", false, 5*time.Second)
	if err := s1.Restart(); err != nil {
		t.Fatal(err)
	}
	g.waitHost(t, "s1", true, 20*time.Second)
	if o := streamChat(context.Background(), g, 4); !o.done {
		t.Fatalf("after the host came back: %+v", o)
	}
}

func TestSaturationQueuesAndPriorities(t *testing.T) {
	g := startGateway(t, hostYAML("only", ollamaURL(t), 1),
		"queues:\n  realtime: {limit: 2, timeout: 60s}\n  interactive: {limit: 2, timeout: 60s}\n  batch: {limit: 2, timeout: 60s}\n"+
			"auth:\n  max_priority: {service: realtime}\n")
	gen := func(prio string, numPredict int) (int, string, time.Time) {
		body := fmt.Sprintf(`{"model":%q,"prompt":%q,"stream":false,"options":{"num_predict":%d}}`, testModel(), promptMarker, numPredict)
		resp := g.do(t, assist.RoleService, "POST", "/api/generate", body, "X-Sote-Priority", prio)
		readAll(t, resp)
		return resp.StatusCode, resp.Header.Get("Retry-After"), time.Now()
	}
	waitQueue := func(class string, n int) {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if g.hosts(t).QueueDepth[class] == n {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("queue %s never reached %d", class, n)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	finished := map[string]time.Time{}
	launch := func(name, prio string, numPredict int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _, at := gen(prio, numPredict)
			mu.Lock()
			defer mu.Unlock()
			if status != 200 {
				t.Errorf("%s: status %d", name, status)
			}
			finished[name] = at
		}()
	}
	// The blocker holds the only slot until the test hangs it up, so the
	// order below does not depend on how fast the model host is.
	blockCtx, unblock := context.WithCancel(context.Background())
	defer unblock()
	blockerDone := make(chan struct{})
	go func() {
		defer close(blockerDone)
		body := fmt.Sprintf(`{"model":%q,"prompt":%q,"stream":false,"options":{"num_predict":100000,"num_ctx":4096}}`, testModel(), promptMarker)
		req, _ := http.NewRequestWithContext(blockCtx, "POST", g.URL+"/api/generate", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+g.Tokens[assist.RoleService])
		req.Header.Set("X-Sote-Priority", "interactive")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for g.hostsInFlight(t) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	launch("batch-1", "batch", 4)
	waitQueue("batch", 1)
	launch("batch-2", "batch", 4)
	waitQueue("batch", 2)

	// The batch queue is full: the next batch request is refused at once.
	status, retryAfter, _ := gen("batch", 4)
	if status != http.StatusTooManyRequests || retryAfter == "" {
		t.Fatalf("full queue: status %d Retry-After %q, want 429 with Retry-After", status, retryAfter)
	}

	launch("realtime", "realtime", 4)
	waitQueue("realtime", 1)
	unblock() // the blocker's client hangs up: its slot goes to the queue
	<-blockerDone
	wg.Wait()
	if !finished["realtime"].Before(finished["batch-1"]) || !finished["realtime"].Before(finished["batch-2"]) {
		t.Fatalf("realtime did not overtake the queued batch requests: %v", finished)
	}
}

func (g *gateway) hostsInFlight(t testing.TB) int {
	n := 0
	for _, h := range g.hosts(t).Hosts {
		n += h.InFlight
	}
	return n
}

// A host whose runner hangs while its server still answers health checks
// (seen after many aborted streams): requests move to the other host after
// the class's first-byte deadline, the host stays out until a one-token
// generation succeeds on it, and then takes work again.
func TestWedgedRunnerFailsOver(t *testing.T) {
	s1 := ollamatest.Start(t)
	s2 := ollamatest.Start(t)
	for _, s := range []*ollamatest.Server{s1, s2} {
		warmHost(t, s.URL) // load the model so each server has its runner
	}
	g := startGateway(t, hostYAML("s1", s1.URL, 4)+hostYAML("s2", s2.URL, 4),
		"health:\n  interval: 300ms\n  work_probe_timeout: 2s\n"+
			"queues:\n  realtime: {limit: 64, timeout: 2m, first_byte: 3s}\n  interactive: {limit: 64, timeout: 2m, first_byte: 3s}\n"+
			"auth:\n  max_priority: {service: realtime}\n")
	s1.SignalRunners(t, syscall.SIGSTOP)
	t.Cleanup(func() { _ = s1.Kill() }) // a stopped runner is killed with its group

	gen := func(prio string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		body := fmt.Sprintf(`{"model":%q,"prompt":%q,"stream":false,"options":{"num_predict":4}}`, testModel(), promptMarker)
		req, _ := http.NewRequestWithContext(ctx, "POST", g.URL+"/api/generate", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+g.Tokens[assist.RoleService])
		req.Header.Set("X-Sote-Priority", prio)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Sote-Host")
	}
	for i, prio := range []string{"realtime", "interactive", "realtime", "interactive"} {
		if status, msg := gen(prio); status != http.StatusOK {
			t.Fatalf("request %d (%s) with one wedged host beside a healthy one: status %d %s", i, prio, status, msg)
		}
	}
	var s1Status struct{ Up, Suspect bool }
	for _, h := range g.hostsFull(t) {
		if h.Name == "s1" {
			s1Status.Up, s1Status.Suspect = h.Up, h.Suspect
		}
	}
	if !s1Status.Up || !s1Status.Suspect {
		t.Fatalf("s1 (answers health checks, runner stopped): %+v, want up and suspect", s1Status)
	}
	if m := metricValues(t, g); m[`assist_host_first_byte_misses_total{host="s1"}`] < 1 || m[`assist_host_suspect{host="s1"}`] != 1 ||
		m[`assist_host_first_byte_misses_total{host="s2"}`] != 0 {
		t.Fatalf("metrics should show s1's missed first bytes and its suspect state")
	}
	s1.SignalRunners(t, syscall.SIGCONT)
	deadline := time.Now().Add(30 * time.Second)
	for {
		back := false
		for _, h := range g.hostsFull(t) {
			back = back || (h.Name == "s1" && !h.Suspect && h.Up)
		}
		if back {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("s1 did not return to service after its runner resumed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status, msg := gen("realtime"); status != http.StatusOK {
		t.Fatalf("after recovery: %d %s", status, msg)
	}
}

// warmHost loads the test model on one Ollama server directly.
func warmHost(t *testing.T, url string) {
	t.Helper()
	body := fmt.Sprintf(`{"model":%q,"prompt":"warm","stream":false,"options":{"num_predict":1}}`, testModel())
	resp, err := http.Post(url+"/api/generate", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("warm %s: %s", url, resp.Status)
	}
}

type hostFull struct {
	Name     string `json:"name"`
	Up       bool   `json:"up"`
	Suspect  bool   `json:"suspect"`
	InFlight int    `json:"in_flight"`
	Limit    int    `json:"limit"`
}

func (g *gateway) hostsFull(t testing.TB) []hostFull {
	t.Helper()
	var s struct{ Hosts []hostFull }
	body := readAll(t, g.do(t, assist.RoleAdmin, "GET", "/v1/admin/hosts", ""))
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("hosts: %v: %s", err, body)
	}
	return s.Hosts
}
