package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soteai/gateway/cmd/internal/schema"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/auth"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/models/ollama/ollamatest"
)

// syncBuffer collects the gateway's logs for the privacy scan.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gateway is an assistd started in-process by run(), as main starts it.
type gateway struct {
	URL     string
	DBURL   string
	DB      *pgxpool.Pool
	Tokens  map[assist.Role]string
	Logs    *syncBuffer
	CfgPath string
	stop    func()
}

// ollamaURL is the stack's real Ollama server (skips locally without it,
// fails under CI=true).
func ollamaURL(t testing.TB) string { return ollamatest.URL(t) }

// testModel is the model the stack's Ollama serves.
func testModel() string { return os.Getenv(ollamatest.EnvModel) }

// migrationSets are the migrations the gateway needs.
func migrationSets() []pgdb.MigrationSet {
	return schema.Sets()
}

// startGateway migrates a fresh database, writes a configuration whose
// hosts and extra settings are given as YAML, creates one token per role
// and runs the gateway until the test ends.
func startGateway(t testing.TB, hostsYAML, extraYAML string, environ ...string) *gateway {
	t.Helper()
	u, err := url.Parse(startDBURL(t))
	if err != nil {
		t.Fatal(err)
	}
	return startGatewayWithDB(t, u, u.Host, hostsYAML, extraYAML, environ...)
}

// startDBURL migrates a fresh database and returns its URL.
func startDBURL(t testing.TB) string {
	t.Helper()
	return pgtest.NewDatabase(t, migrationSets()...)
}

// startGatewayWithDB runs the gateway on the database at dbURL, reached at
// gatewayHost (host:port) by the gateway and directly by the test.
func startGatewayWithDB(t testing.TB, dbURL *url.URL, gatewayHost, hostsYAML, extraYAML string, environ ...string) *gateway {
	t.Helper()
	db, err := pgdb.Open(context.Background(), dbURL.String(), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	viaURL := *dbURL
	viaURL.Host = gatewayHost
	dir := t.TempDir()
	cfgPath := dir + "/assistd.yaml"
	cfg := fmt.Sprintf("listen: 127.0.0.1:0\nhosts:\n%s\n%s\n", hostsYAML, extraYAML)
	if !strings.Contains(extraYAML, "audit:") {
		cfg += "audit:\n  enabled: false\n"
	}
	environ = append(environ, "ASSIST_DATABASE_URL="+viaURL.String())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	dbURLs := dbURL.String()
	g := &gateway{CfgPath: cfgPath, DBURL: dbURLs, DB: db, Tokens: map[assist.Role]string{}, Logs: &syncBuffer{}}
	store := auth.NewStore(db)
	for _, r := range assist.Roles {
		tok, _, err := store.CreateToken(context.Background(), "test-"+string(r), r, "test county")
		if err != nil {
			t.Fatal(err)
		}
		g.Tokens[r] = tok
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-config", cfgPath}, environ, pw, g.Logs)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	addr := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if a, ok := strings.CutPrefix(lines.Text(), "assistd listening on "); ok {
				addr <- a
			}
		}
	}()
	select {
	case g.URL = <-addr:
	case err := <-done:
		cancel()
		t.Fatalf("assistd exited: %v\n%s", err, g.Logs.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("assistd did not start\n%s", g.Logs.String())
	}
	g.stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("assistd: %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Errorf("assistd did not shut down")
		}
	}
	t.Cleanup(func() {
		g.stop()
		scanLogs(t, g.Logs.String())
	})
	return g
}

// scanLogs fails the test if the gateway logged prompt text or anything
// shaped like a personal identity code. Tests put the marker words below
// into every prompt they send.
func scanLogs(t testing.TB, logs string) {
	t.Helper()
	for _, secret := range []string{promptMarker, hetuExample} {
		if strings.Contains(logs, secret) {
			t.Errorf("the gateway's logs contain prompt text or an identity code (%q)", secret)
		}
	}
}

// promptMarker is in every prompt the tests send; it must never be logged.
const promptMarker = "Potilaalla kovaa päänsärkyä"

// hetuExample is a syntactically valid, fictitious personal identity code.
const hetuExample = "131052-308T"

// do sends a request with a bearer token for role ("" for none).
func (g *gateway) do(t testing.TB, role assist.Role, method, path, body string, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, g.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+g.Tokens[role])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readAll(t testing.TB, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hostYAML(name, url string, limit int, labels ...string) string {
	return fmt.Sprintf("  - name: %s\n    url: %s\n    max_concurrent: %d\n    labels: [%s]\n", name, url, limit, strings.Join(labels, ", "))
}

// auditYAML is the configuration of an enabled audit log with fresh keys.
func auditYAML(t testing.TB) string {
	t.Helper()
	hmacKey := make([]byte, 32)
	seed := make([]byte, ed25519.SeedSize)
	_, _ = rand.Read(hmacKey)
	_, _ = rand.Read(seed)
	return fmt.Sprintf("audit:\n  enabled: true\n  hmac_key: %s\n  checkpoint_key: %s\n  checkpoint_every: 1s\n",
		hex.EncodeToString(hmacKey), hex.EncodeToString(seed))
}

// auditPublicKey derives the checkpoint public key from auditYAML's text.
func auditPublicKey(t testing.TB, yaml string) ed25519.PublicKey {
	t.Helper()
	_, rest, _ := strings.Cut(yaml, "checkpoint_key: ")
	seed, err := hex.DecodeString(strings.Fields(rest)[0])
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
}
