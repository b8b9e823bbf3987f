package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soteai/gateway/assist/auth/cdsjwt/cdsjwttest"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

// BenchmarkCDSGateway measures signed CDS Hooks order-sign calls through
// the whole gateway: JWT verification (ES384 or RS384), assessment, cards
// and an audit record written before each answer (64 clients, 3 s per
// round), on the test cluster (fsync off) and on a durable one (fsync,
// synchronous_commit, full_page_writes on), where each answer really
// waited for its durable record. Tokens are signed before the timed
// window, as an EHR would have done. It reports calls per second; the
// target is at least 2,000.
func BenchmarkCDSGateway(b *testing.B) {
	ehr := cdsjwttest.New(b, "https://ehr.example.org/fhir")
	req, err := os.ReadFile("../../risk/cdshooks/testdata/order_sign_request.json")
	if err != nil {
		b.Fatal(err)
	}
	aud := cdsBaseURL + "/cds-services/medication-risk"
	const window = 3 * time.Second
	for _, db := range []string{"audit", "audit-durable"} {
		b.Run(db, func(b *testing.B) {
			cfg := auditYAML(b) + "log:\n  level: warn\n" + cdsYAML(ehr)
			var g *gateway
			if db == "audit-durable" {
				u, err := url.Parse(pgtest.NewDurableDatabase(b, migrationSets()...))
				if err != nil {
					b.Fatal(err)
				}
				g = startGatewayWithDB(b, u, u.Host, hostYAML("h1", ollamaURL(b), 2), cfg)
			} else {
				g = startGateway(b, hostYAML("h1", ollamaURL(b), 2), cfg)
			}
			benchCDS(b, g, ehr, string(req), aud, window)
		})
	}
}

func benchCDS(b *testing.B, g *gateway, ehr *cdsjwttest.EHR, req, aud string, window time.Duration) {
	for _, alg := range []string{"ES384", "RS384"} {
		b.Run(alg, func(b *testing.B) {
			for range b.N {
				// Enough tokens for 4,000 calls/s; signed on all cores.
				toks := make([]string, 12000)
				var wg sync.WaitGroup
				for w := range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := w; i < len(toks); i += 4 {
							toks[i] = ehr.Token(b, alg, aud)
						}
					}()
				}
				wg.Wait()
				var next, done, failed atomic.Int64
				var firstErr atomic.Value
				stop := time.Now().Add(window)
				for range 64 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for time.Now().Before(stop) {
							i := next.Add(1) - 1
							if i >= int64(len(toks)) {
								return
							}
							hr, _ := http.NewRequest("POST", g.URL+"/cds-services/medication-risk", strings.NewReader(req))
							hr.Header.Set("Authorization", "Bearer "+toks[i])
							hr.Header.Set("Content-Type", "application/json")
							resp, err := benchClient.Do(hr)
							if err == nil {
								io.Copy(io.Discard, resp.Body)
								resp.Body.Close()
								if resp.StatusCode != 200 {
									err = fmt.Errorf("status %d", resp.StatusCode)
								}
							}
							if err != nil {
								failed.Add(1)
								firstErr.CompareAndSwap(nil, err.Error())
								continue
							}
							done.Add(1)
						}
					}()
				}
				wg.Wait()
				if failed.Load() > 0 {
					b.Fatalf("%d calls failed (first: %v)", failed.Load(), firstErr.Load())
				}
				if next.Load() >= int64(len(toks)) {
					b.Logf("ran out of pre-signed tokens: the rate is at least the figure reported")
				}
				b.ReportMetric(float64(done.Load())/window.Seconds(), "calls/s")
			}
		})
	}
}
