package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

func TestClientHangUpIsNotAHostFailure(t *testing.T) {
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 2), "health:\n  breaker_threshold: 1\n  breaker_cooldown: 1h\n")
	for range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		body := fmt.Sprintf(`{"model":%q,"prompt":%q,"options":{"num_predict":3000}}`, testModel(), promptMarker)
		req, _ := http.NewRequestWithContext(ctx, "POST", g.URL+"/api/generate", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+g.Tokens[assist.RoleClinician])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if !bufio.NewScanner(resp.Body).Scan() {
			t.Fatal("no first chunk")
		}
		cancel() // the client hangs up mid-stream
		resp.Body.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for g.hostsInFlight(t) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the upstream requests were not cancelled")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// With a breaker threshold of 1, a counted failure would take the host
	// out for an hour; the next request must still be served.
	body := fmt.Sprintf(`{"model":%q,"prompt":"x","stream":false,"options":{"num_predict":2}}`, testModel())
	if resp := g.do(t, assist.RoleClinician, "POST", "/api/generate", body); resp.StatusCode != 200 {
		t.Fatalf("after client hang-ups: %d %s", resp.StatusCode, readAll(t, resp))
	}
}

func TestGracefulShutdownDrainsStreams(t *testing.T) {
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 2), "")
	body := fmt.Sprintf(`{"model":%q,"prompt":%q,"options":{"num_predict":400}}`, testModel(), promptMarker)
	req, _ := http.NewRequest("POST", g.URL+"/api/generate", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+g.Tokens[assist.RoleClinician])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() {
		t.Fatal("no first chunk")
	}
	stopped := make(chan struct{})
	go func() { g.stop(); close(stopped) }() // SIGTERM while streaming
	done := false
	for sc.Scan() {
		done = done || strings.Contains(sc.Text(), `"done":true`)
	}
	if !done {
		t.Fatal("the stream was cut by the shutdown instead of drained")
	}
	<-stopped
	if _, err := http.Get(g.URL + "/healthz"); err == nil {
		t.Fatal("the gateway still accepts requests after shutdown")
	}
	g.stop = func() {}
}

func TestMetricsAndProbes(t *testing.T) {
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 2), "")
	body := fmt.Sprintf(`{"model":%q,"prompt":"x","stream":false,"options":{"num_predict":3}}`, testModel())
	readAll(t, g.do(t, assist.RoleClinician, "POST", "/api/generate", body))
	for path, want := range map[string]string{
		"/healthz": `"ok"`,
		"/readyz":  `"ready":true`,
		"/metrics": "assist_queue_depth{class=\"realtime\"} 0",
	} {
		resp := g.do(t, "", "GET", path, "")
		if got := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(got, want) {
			t.Errorf("%s: %d, want %q in %.300s", path, resp.StatusCode, want, got)
		}
	}
	metrics := readAll(t, g.do(t, "", "GET", "/metrics", ""))
	for _, name := range []string{
		`assist_http_requests_total{code="200",method="POST",route="/api/generate"} 1`,
		`assist_host_up{host="h1"} 1`, "assist_http_request_duration_seconds_bucket",
		"assist_tokens_total", "assist_output_tokens_per_second", "assist_upstream_first_byte_seconds",
	} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	var who map[string]any
	if err := json.Unmarshal([]byte(readAll(t, g.do(t, assist.RoleInterpreter, "GET", "/v1/whoami", ""))), &who); err != nil || who["role"] != "interpreter" {
		t.Errorf("whoami: %v %v", who, err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and returns its paths and pool.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "assistd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLSWhenConfigured(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := selfSigned(t)
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 2), fmt.Sprintf("tls:\n  cert_file: %s\n  key_file: %s\n", certFile, keyFile))
	if !strings.HasPrefix(g.URL, "https://") {
		t.Fatalf("gateway URL %s is not https", g.URL)
	}
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := cl.Get(g.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("https healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err := http.Get(strings.Replace(g.URL, "https://", "http://", 1) + "/healthz"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP was served although TLS is configured")
	}
}

// TestRefusesUnmigratedDatabase: the gateway does not start on a database
// whose schema is older than the binary, and says what to run; a running
// gateway whose database falls behind (a restore of an older backup) is
// reported not ready.
func TestRefusesUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t) // nothing migrated
	dir := t.TempDir()
	cfg := fmt.Sprintf("listen: 127.0.0.1:0\nhosts:\n%s\naudit:\n  enabled: false\n", hostYAML("h1", ollamaURL(t), 1))
	if err := os.WriteFile(dir+"/assistd.yaml", []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	err := run(context.Background(), []string{"-config", dir + "/assistd.yaml"}, []string{"ASSIST_DATABASE_URL=" + dbURL}, io.Discard, &logs)
	if err == nil || !strings.Contains(err.Error(), "assist migrate") || !strings.Contains(err.Error(), "pending migrations") {
		t.Fatalf("run on an unmigrated database: %v", err)
	}

	g := startGateway(t, hostYAML("h1", ollamaURL(t), 1), "")
	if _, err := g.DB.Exec(context.Background(), "DELETE FROM goose_retrieval WHERE version_id > 0"); err != nil {
		t.Fatal(err)
	}
	resp := g.do(t, "", "GET", "/readyz", "")
	if body := readAll(t, resp); resp.StatusCode != 503 || !strings.Contains(body, "retrieval 0 of") {
		t.Fatalf("/readyz with a schema behind the binary: %d %s", resp.StatusCode, body)
	}
}
