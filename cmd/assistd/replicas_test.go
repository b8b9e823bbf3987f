package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/auth"
	"github.com/soteai/gateway/assist/pgdb"
)

// buildBinaries builds assistd and assist into a temporary directory, as
// an operator installs them, and returns that directory.
func buildBinaries(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), ".", "../assist").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// replica is one assistd process started from the built binary.
type replica struct {
	URL  string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
}

// startReplica runs bin/assistd with the configuration file cfgPath on the
// database at dbURL until the test ends (or kill).
func startReplica(t testing.TB, bin, cfgPath, dbURL string) *replica {
	t.Helper()
	r := &replica{logs: &syncBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(filepath.Join(bin, "assistd"), "-config", cfgPath)
	r.cmd.Env = append(os.Environ(), "ASSIST_DATABASE_URL="+dbURL)
	r.cmd.Stderr = r.logs
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "assistd listening on "); ok {
				addr <- a
			}
		}
		_ = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(os.Interrupt)
		select {
		case <-r.done:
		case <-time.After(60 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.done
		}
		scanLogs(t, r.logs.String())
	})
	select {
	case r.URL = <-addr:
	case <-r.done:
		t.Fatalf("assistd exited: %s", r.logs.String())
	case <-time.After(120 * time.Second):
		t.Fatalf("assistd did not start\n%s", r.logs.String())
	}
	return r
}

// kill ends the process with SIGKILL: no drain, no flush.
func (r *replica) kill(t testing.TB) {
	t.Helper()
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-r.done
}

// post sends an authenticated JSON request; the error is returned (not
// fatal) because a killed replica's requests are expected to fail.
func post(ctx context.Context, base, token, path, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return http.DefaultClient.Do(req)
}

// auditVerify runs the built `assist audit verify --db` against dbURL with
// the trusted public key of auditYAML's checkpoint key and extra flags.
func auditVerify(t testing.TB, bin, dbURL, ay string, extra ...string) (string, error) {
	t.Helper()
	pub := base64Pub(t, ay)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"audit", "verify", "--db", "--checkpoint-public-key", pub}, extra...)
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "assist"), args...)
	cmd.Env = append(os.Environ(), "ASSIST_DATABASE_URL="+dbURL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// replicaTokens creates one token per role in the shared database.
func replicaTokens(t testing.TB, dbURL string) map[assist.Role]string {
	t.Helper()
	db, err := pgdb.Open(context.Background(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	toks := map[assist.Role]string{}
	for _, r := range assist.Roles {
		tok, _, err := auth.NewStore(db).CreateToken(context.Background(), "replica-"+string(r), r, "test county")
		if err != nil {
			t.Fatal(err)
		}
		toks[r] = tok
	}
	return toks
}

// TestTwoReplicasShareTheAuditLog runs two assistd processes (the built
// binary) on one database with the same audit keys, drives mixed traffic
// at both, kills one with SIGKILL mid-stream, and requires `assist audit
// verify --db` to find every record intact: no gap, no fork, and every
// checkpoint either replica signed consistent with the one log.
func TestTwoReplicasShareTheAuditLog(t *testing.T) {
	ollama := ollamaURL(t)
	dbURL := startDBURL(t)
	bin := buildBinaries(t)
	ay := auditYAML(t)
	cfgPath := filepath.Join(t.TempDir(), "assistd.yaml")
	// Both replicas sign checkpoints often, with the same key.
	cfg := fmt.Sprintf("listen: 127.0.0.1:0\nhosts:\n%s\nmodels:\n  chat: %s\n%s", hostYAML("h1", ollama, 2), testModel(),
		strings.Replace(ay, "checkpoint_every: 1s", "checkpoint_every: 200ms", 1))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	toks := replicaTokens(t, dbURL)
	a := startReplica(t, bin, cfgPath, dbURL)
	b := startReplica(t, bin, cfgPath, dbURL)
	tok := toks[assist.RoleClinician]

	gen := func(stream bool, n int) string {
		return fmt.Sprintf(`{"model":%q,"prompt":%q,"stream":%t,"options":{"num_predict":%d}}`, testModel(), promptMarker, stream, n)
	}
	const risk = `{"drugs":[{"name":"Eliquis 5 mg"},{"name":"Burana 400 mg"}],"patient":{"age":82,"egfr":35,"falls":true}}`
	type call struct{ path, body string }
	calls := []call{
		{"/api/generate", gen(false, 4)},
		{"/api/generate", gen(true, 8)},
		{"/v1/risk/assess", risk},
	}
	// one exchange: a 200 whose body was read to the end.
	exchange := func(base string, c call) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		resp, err := post(ctx, base, tok, c.path, c.body)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		if _, err := body.ReadFrom(resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: %d %.300s", c.path, resp.StatusCode, body.String())
		}
		return nil
	}

	// Mixed traffic at both replicas concurrently: workers on a make a
	// fixed number of exchanges, workers on b run until b is killed.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failedA []error
	var okB, failedB int
	killed := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				c := calls[(w+i)%len(calls)]
				if w%2 == 0 {
					if i == 8 {
						return
					}
					if err := exchange(a.URL, c); err != nil {
						mu.Lock()
						failedA = append(failedA, err)
						mu.Unlock()
					}
					continue
				}
				select {
				case <-killed:
					return
				default:
				}
				err := exchange(b.URL, c)
				mu.Lock()
				if err == nil {
					okB++
				} else {
					failedB++
				}
				mu.Unlock()
			}
		}()
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		mu.Lock()
		n := okB
		mu.Unlock()
		if n >= 3 && strings.Contains(b.logs.String(), "audit checkpoint signed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replica b served fewer than 3 exchanges or signed no checkpoint in 3 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A long stream on replica b, killed (SIGKILL) in its middle while the
	// traffic flows.
	streamCtx, cancelStream := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancelStream()
	long, err := post(streamCtx, b.URL, tok, "/api/generate", gen(true, 3000))
	if err != nil {
		t.Fatal(err)
	}
	defer long.Body.Close()
	sc := bufio.NewScanner(long.Body)
	if long.StatusCode != 200 || !sc.Scan() {
		t.Fatalf("long stream on replica b: %d", long.StatusCode)
	}
	b.kill(t)
	close(killed)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"done":true`) {
			t.Fatal("the killed replica's stream completed")
		}
	}
	wg.Wait()
	for _, err := range failedA {
		t.Errorf("replica a (never killed): %v", err)
	}
	t.Logf("replica b: %d exchanges succeeded before the kill, %d failed at it", okB, failedB)

	// a keeps serving, and appends after b's last records.
	for _, c := range calls {
		if err := exchange(a.URL, c); err != nil {
			t.Fatalf("replica a after the kill: %v", err)
		}
	}
	// a signs a checkpoint covering everything (checkpoint_every: 1s).
	db, err := pgdb.Open(context.Background(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var records int64
	if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_records`).Scan(&records); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(2 * time.Minute)
	for {
		var maxSize int64
		if err := db.QueryRow(ctx, `SELECT coalesce(max(size), 0) FROM audit_checkpoints`).Scan(&maxSize); err != nil {
			t.Fatal(err)
		}
		if maxSize >= records {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint covers the %d records (newest covers %d)", records, maxSize)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Every record intact, no gap (seq 1..n dense), no fork (one record
	// per seq, every checkpoint of one size has one root).
	var minSeq, maxSeq, n int64
	if err := db.QueryRow(ctx, `SELECT min(seq), max(seq), count(*) FROM audit_records`).Scan(&minSeq, &maxSeq, &n); err != nil {
		t.Fatal(err)
	}
	if minSeq != 1 || maxSeq != n {
		t.Fatalf("audit sequence has a gap: seq %d..%d, %d records", minSeq, maxSeq, n)
	}
	var forks int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM (SELECT size FROM audit_checkpoints GROUP BY size HAVING count(DISTINCT root) > 1) f`).Scan(&forks); err != nil {
		t.Fatal(err)
	}
	if forks != 0 {
		t.Fatalf("%d checkpoint sizes were signed with different roots: a fork", forks)
	}
	// One replica signs at a time (an advisory lock) and only a tree larger
	// than every stored checkpoint: in signing order the sizes strictly grow.
	var unordered int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM (SELECT size, lag(size) OVER (ORDER BY id) AS prev FROM audit_checkpoints) c
		WHERE prev IS NOT NULL AND size <= prev`).Scan(&unordered); err != nil {
		t.Fatal(err)
	}
	if unordered != 0 {
		t.Fatalf("%d checkpoints were signed out of order or twice for one size: replicas signed at the same time", unordered)
	}
	// Both replicas signed checkpoints of the one log; every one of them
	// is checked by the verifier below against the records it covers.
	for name, r := range map[string]*replica{"a": a, "b": b} {
		if !strings.Contains(r.logs.String(), "audit checkpoint signed") {
			t.Errorf("replica %s signed no checkpoint", name)
		}
	}
	var cps int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_checkpoints`).Scan(&cps); err != nil {
		t.Fatal(err)
	}
	out, err := auditVerify(t, bin, dbURL, ay)
	if !strings.Contains(out, fmt.Sprintf("%d checkpoints", cps)) {
		t.Errorf("the verifier did not examine all %d checkpoints:\n%s", cps, out)
	}
	if err != nil || !strings.Contains(out, "OK: no tampering found") || !strings.Contains(out, fmt.Sprintf("seq 1..%d intact", n)) {
		t.Fatalf("assist audit verify --db: %v\n%s", err, out)
	}
	t.Logf("%d records from two replicas, verified:\n%s", n, out)
}

// base64Pub is the checkpoint public key of auditYAML's text, as
// --checkpoint-public-key takes it.
func base64Pub(t testing.TB, ay string) string {
	t.Helper()
	return base64.StdEncoding.EncodeToString(auditPublicKey(t, ay))
}

// auditSeed is the hex checkpoint signing key (seed) of auditYAML's text.
func auditSeed(t testing.TB, ay string) string {
	t.Helper()
	_, rest, _ := strings.Cut(ay, "checkpoint_key: ")
	return strings.Fields(rest)[0]
}

// auditPrivateKey is the checkpoint signing key of auditYAML's text.
func auditPrivateKey(t testing.TB, ay string) ed25519.PrivateKey {
	t.Helper()
	seed, err := hex.DecodeString(auditSeed(t, ay))
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(seed)
}
