package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

// instantUpstream answers like an Ollama host that computes nothing, so a
// benchmark measures the gateway alone.
func instantUpstream(t testing.TB) string {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"version":"0.17.4"}`) })
	mux.HandleFunc("GET /api/tags", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"models":[{"name":"instant:latest","model":"instant:latest","digest":"0123456789abcdef"}]}`)
	})
	mux.HandleFunc("GET /api/ps", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"models":[]}`) })
	mux.HandleFunc("POST /api/chat", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/x-ndjson")
		if strings.Contains(string(body), `"stream":false`) {
			io.WriteString(w, `{"model":"instant","message":{"role":"assistant","content":"ok"},"done":true,"prompt_eval_count":3,"eval_count":1}`+"\n")
			return
		}
		f := w.(http.Flusher)
		for i := range 3 {
			fmt.Fprintf(w, `{"model":"instant","message":{"role":"assistant","content":"t%d"},"done":false}`+"\n", i)
			f.Flush()
		}
		io.WriteString(w, `{"model":"instant","message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":3,"eval_count":3}`+"\n")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

type target struct {
	name, url, token, model string
}

var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, DisableCompression: true}}

// call sends one chat request; for streams it returns the time to the
// first body byte, otherwise the time to the whole answer.
func (tg target) call(stream bool) (time.Duration, error) {
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"hei"}],"stream":%v,"options":{"num_predict":4}}`, tg.model, stream)
	req, _ := http.NewRequest("POST", tg.url+"/api/chat", strings.NewReader(body))
	if tg.token != "" {
		req.Header.Set("Authorization", "Bearer "+tg.token)
	}
	start := time.Now()
	resp, err := benchClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var first time.Duration
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 && first == 0 {
			first = time.Since(start)
		}
		if err != nil {
			break
		}
	}
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	if stream {
		return first, nil
	}
	return time.Since(start), nil
}

func percentile(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return d[int(float64(len(d)-1)*p)]
}

// latencies measures n sequential calls after a warm-up.
func latencies(b *testing.B, tg target, stream bool, n int) []time.Duration {
	for range 50 {
		if _, err := tg.call(stream); err != nil {
			b.Fatalf("%s: %v", tg.name, err)
		}
	}
	out := make([]time.Duration, n)
	for i := range out {
		d, err := tg.call(stream)
		if err != nil {
			b.Fatalf("%s: %v", tg.name, err)
		}
		out[i] = d
	}
	return out
}

// throughput runs clients concurrent callers for dur and returns calls/s.
func throughput(b *testing.B, tg target, clients int, dur time.Duration) float64 {
	var done atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(dur)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if _, err := tg.call(false); err != nil {
					failed.Add(1)
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		b.Fatalf("%s: %d calls failed", tg.name, failed.Load())
	}
	return float64(done.Load()) / dur.Seconds()
}

// BenchmarkGatewayOverhead compares calls through the gateway with calls
// straight to the same upstream, in one run: added latency (p50/p99) for
// non-streaming calls, added time to first byte for streams, and
// throughput at 64 concurrent clients. Upstream "instant" isolates the
// gateway; "ollama" is the real server with the tiny model. The audited
// variant writes every record to the real PostgreSQL audit log.
func BenchmarkGatewayOverhead(b *testing.B) {
	upstreams := []struct{ name, url, model string }{
		{"instant", instantUpstream(b), "instant"},
		{"ollama", ollamaURL(b), testModel()},
	}
	for _, up := range upstreams {
		b.Run(up.name, func(b *testing.B) {
			direct := target{name: "direct", url: up.url, model: up.model}
			// The audit log on the test cluster (fsync off) and on the
			// durable one (fsync, synchronous_commit, full_page_writes
			// on), where the released output really waited for a durable
			// record.
			variants := []struct {
				name    string
				extra   string
				durable bool
			}{{"gateway", "", false}, {"gateway+audit", auditYAML(b), false}, {"gateway+audit-durable", auditYAML(b), true}}
			for _, v := range variants {
				b.Run(v.name, func(b *testing.B) {
					cfg := hostYAML("up", up.url, 256)
					extra := "queues:\n  interactive: {limit: 4096, timeout: 60s}\nlog:\n  level: warn\n" + v.extra
					var g *gateway
					if v.durable {
						u, err := url.Parse(pgtest.NewDurableDatabase(b, migrationSets()...))
						if err != nil {
							b.Fatal(err)
						}
						g = startGatewayWithDB(b, u, u.Host, cfg, extra)
					} else {
						g = startGateway(b, cfg, extra)
					}
					via := target{name: v.name, url: g.URL, token: g.Tokens[assist.RoleService], model: up.model}
					n, dur, rounds := 2000, 2*time.Second, 3
					if up.name == "ollama" {
						// A real model host's throughput drifts more: more rounds.
						n, dur, rounds = 40, 4*time.Second, 6
					}
					for i := 0; i < b.N; i++ {
						dl, gl := latencies(b, direct, false, n), latencies(b, via, false, n)
						ds, gs := latencies(b, direct, true, n), latencies(b, via, true, n)
						// Alternate direct and via-gateway rounds so drift in the
						// machine's load affects both alike.
						var dt, gt float64
						for range rounds {
							dt += throughput(b, direct, 64, dur) / float64(rounds)
							gt += throughput(b, via, 64, dur) / float64(rounds)
						}
						b.ReportMetric(float64((percentile(gl, .5)-percentile(dl, .5)).Microseconds())/1000, "added-p50-ms")
						b.ReportMetric(float64((percentile(gl, .99)-percentile(dl, .99)).Microseconds())/1000, "added-p99-ms")
						b.ReportMetric(float64((percentile(gs, .5)-percentile(ds, .5)).Microseconds())/1000, "added-ttfb-p50-ms")
						b.ReportMetric(gt/dt, "throughput-ratio")
						b.Logf("%s via %s: p50 %v vs %v direct; p99 %v vs %v; ttfb p50 %v vs %v; 64 clients %.0f/s vs %.0f/s direct (%.1f%%)",
							up.name, v.name, percentile(gl, .5), percentile(dl, .5), percentile(gl, .99), percentile(dl, .99),
							percentile(gs, .5), percentile(ds, .5), gt, dt, 100*gt/dt)
					}
				})
			}
		})
	}
}

// BenchmarkRiskAssessGateway measures POST /v1/risk/assess through the
// whole gateway — authentication, the rule engine and a durable audit
// record in PostgreSQL per assessment — with 64 concurrent clients.
func BenchmarkRiskAssessGateway(b *testing.B) {
	g := startGateway(b, hostYAML("h1", ollamaURL(b), 2), auditYAML(b)+"log:\n  level: warn\n")
	list := `{"drugs":[{"name":"Marevan"},{"name":"Burana"},{"atc":"N05BA04"},{"atc":"C09AA05"},{"atc":"C03DA01"},` +
		`{"atc":"N06AB10"},{"atc":"N02AA01"},{"atc":"A10BA02"},{"atc":"C07AB07"},{"atc":"N03AX16"},{"atc":"M01AB05"},` +
		`{"atc":"A02BC01"},{"atc":"N05CF01"},{"atc":"C08CA01"},{"atc":"G04BD08"}],"patient":{"age":80,"egfr":35,"falls":true}}`
	call := func() error {
		req, _ := http.NewRequest("POST", g.URL+"/v1/risk/assess", strings.NewReader(list))
		req.Header.Set("Authorization", "Bearer "+g.Tokens[assist.RoleService])
		resp, err := benchClient.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	for i := 0; i < b.N; i++ {
		var done, failed atomic.Int64
		var wg sync.WaitGroup
		stop := time.Now().Add(5 * time.Second)
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					if call() != nil {
						failed.Add(1)
						continue
					}
					done.Add(1)
				}
			}()
		}
		wg.Wait()
		if failed.Load() > 0 {
			b.Fatalf("%d assessments failed", failed.Load())
		}
		b.ReportMetric(float64(done.Load())/5, "assessments/s")
	}
}
