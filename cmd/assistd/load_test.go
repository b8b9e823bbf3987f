package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/models/ollama/ollamatest"
)

// TestLoadTwoModelsTwoHosts runs mixed-priority load for two models on two
// real Ollama hosts — host a serves models A and B, host b only B — with A
// oversubscribed, so A requests of every class queue for host a. No
// request may wait while a host that can serve it is idle: B requests must
// never queue behind A's waiters while b has a free slot. The pool's own
// metric (assist_queue_idle_host_waits_total, sampled at every scrape and
// at every enqueue) checks it, scraped throughout the run.
func TestLoadTwoModelsTwoHosts(t *testing.T) {
	modelA, modelB := testModel(), "tiny-b"
	dirA, dirB := ollamatest.PrivateModels(t), ollamatest.PrivateModels(t)
	ha := ollamatest.Start(t, "OLLAMA_MODELS="+dirA)
	hb := ollamatest.Start(t, "OLLAMA_MODELS="+dirB)
	for _, h := range []*ollamatest.Server{ha, hb} {
		ollamaPost(t, h.URL, "/api/create", fmt.Sprintf(`{"model":%q,"from":%q,"system":"Model B."}`, modelB, modelA))
	}
	ollamaDo(t, "DELETE", hb.URL, "/api/delete", fmt.Sprintf(`{"model":%q}`, modelA)) // b serves only B
	for _, w := range []struct{ url, model string }{{ha.URL, modelA}, {ha.URL, modelB}, {hb.URL, modelB}} {
		ollamaPost(t, w.url, "/api/generate", fmt.Sprintf(`{"model":%q,"prompt":"warm","stream":false,"options":{"num_predict":1}}`, w.model))
	}
	g := startGateway(t, hostYAML("a", ha.URL, 2)+hostYAML("b", hb.URL, 2),
		"health:\n  interval: 500ms\n"+
			"queues:\n  realtime: {limit: 256, timeout: 5m}\n  interactive: {limit: 256, timeout: 5m}\n  batch: {limit: 256, timeout: 5m}\n"+
			"auth:\n  max_priority: {service: realtime}\n")

	classes := []string{"realtime", "interactive", "batch"}
	var failures atomic.Int64
	gen := func(model, prio string, numPredict int) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		body := fmt.Sprintf(`{"model":%q,"prompt":%q,"stream":false,"options":{"num_predict":%d}}`, model, promptMarker, numPredict)
		req, _ := http.NewRequestWithContext(ctx, "POST", g.URL+"/api/generate", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+g.Tokens[assist.RoleService])
		req.Header.Set("X-Sote-Priority", prio)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			failures.Add(1)
			t.Errorf("%s %s: %v", model, prio, err)
			return
		}
		defer resp.Body.Close()
		if _, err := bufio.NewReader(resp.Body).WriteTo(discard{}); err != nil || resp.StatusCode != http.StatusOK {
			failures.Add(1)
			t.Errorf("%s %s: status %d %v", model, prio, resp.StatusCode, err)
		}
	}

	// Scrape the pool's metrics throughout the run.
	stop := make(chan struct{})
	var scrapes, idleSeen atomic.Int64
	var maxQueued atomic.Int64
	var scraper sync.WaitGroup
	scraper.Add(1)
	go func() {
		defer scraper.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
			m := metricValues(t, g)
			scrapes.Add(1)
			if v := m["assist_queue_idle_host_waits_total"]; v > 0 {
				idleSeen.Store(int64(v))
			}
			q := int64(0)
			for _, c := range classes {
				q += int64(m[`assist_queue_depth{class="`+c+`"}`])
			}
			if q > maxQueued.Load() {
				maxQueued.Store(q)
			}
		}
	}()

	const aWorkers, bWorkers, perWorker = 10, 4, 4
	var wg sync.WaitGroup
	for w := 0; w < aWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				gen(modelA, classes[(w+i)%3], 400)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond) // let A's queue build up first
	for w := 0; w < bWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				gen(modelB, classes[(w+i)%3], 100)
			}
		}()
	}
	wg.Wait()
	close(stop)
	scraper.Wait()

	m := metricValues(t, g)
	waited := 0.0
	for _, c := range classes {
		waited += m[`assist_queue_waits_total{class="`+c+`"}`]
	}
	t.Logf("%d requests (%d failed); %d scrapes; at most %d queued at once; %.0f waits, %.2f s waiting in all; idle-host waits %v",
		(aWorkers+bWorkers)*perWorker, failures.Load(), scrapes.Load(), maxQueued.Load(), waited,
		m[`assist_queue_wait_seconds_total{class="realtime"}`]+m[`assist_queue_wait_seconds_total{class="interactive"}`]+m[`assist_queue_wait_seconds_total{class="batch"}`],
		m["assist_queue_idle_host_waits_total"])
	if waited == 0 || maxQueued.Load() == 0 {
		t.Fatal("no request ever queued: the load did not oversubscribe host a, so the check proves nothing")
	}
	if v := m["assist_queue_idle_host_waits_total"]; v != 0 || idleSeen.Load() != 0 {
		t.Fatalf("the pool saw %v waits beside an idle host that could serve them", max(v, float64(idleSeen.Load())))
	}
	if m[`assist_host_in_flight{host="b"}`] != 0 || m[`assist_host_in_flight{host="a"}`] != 0 {
		t.Fatal("slots leaked")
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// metricValues scrapes /metrics into name{labels} -> value.
func metricValues(t testing.TB, g *gateway) map[string]float64 {
	resp, err := http.Get(g.URL + "/metrics")
	if err != nil {
		t.Errorf("metrics: %v", err)
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// ollamaPost and ollamaDo call an Ollama server directly (model set-up the
// gateway refuses to do).
func ollamaPost(t *testing.T, base, path, body string) { ollamaDo(t, "POST", base, path, body) }

func ollamaDo(t *testing.T, method, base, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
}
