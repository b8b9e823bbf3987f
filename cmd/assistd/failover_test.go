package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/cmd/internal/schema"
)

// cluster is a PostgreSQL 15 cluster of the test's own, which the test
// may stop and start (a primary switch-over seen from the gateway).
type cluster struct {
	pgCtl, data, logFile string
	port                 int
	asPostgres           bool
}

// startCluster initdb's and starts a private cluster on a free loopback
// port; it is stopped and removed when the test ends.
func startCluster(t testing.TB) *cluster {
	t.Helper()
	initdb := pgProgram(t, "initdb")
	c := &cluster{pgCtl: pgProgram(t, "pg_ctl"), asPostgres: os.Geteuid() == 0}
	dir, err := os.MkdirTemp("", "assistd-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if c.asPostgres { // PostgreSQL refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	c.data, c.logFile = filepath.Join(dir, "data"), filepath.Join(dir, "postgres.log")
	c.run(t, initdb, "-D", c.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
	conf := "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
	c.run(t, "sh", "-c", "cat >> "+filepath.Join(c.data, "postgresql.conf")+" <<'EOF'"+conf+"EOF\n")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	c.start(t)
	t.Cleanup(func() { c.stop(t) })
	return c
}

// run runs a program as the cluster's owner.
func (c *cluster) run(t testing.TB, name string, args ...string) {
	t.Helper()
	if c.asPostgres {
		args = append([]string{"-u", "postgres", "--", name}, args...)
		name = "runuser"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = "/"
	if out, err := cmd.CombinedOutput(); err != nil {
		logs, _ := os.ReadFile(c.logFile)
		t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out, logs)
	}
}

func (c *cluster) start(t testing.TB) {
	t.Helper()
	c.run(t, c.pgCtl, "-D", c.data, "-l", c.logFile, "-w", "-t", "240", "-o", fmt.Sprintf("-p %d", c.port), "start")
}

// stop is a fast shutdown: sessions are cut, open transactions roll back.
func (c *cluster) stop(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(c.data, "postmaster.pid")); err != nil {
		return
	}
	c.run(t, c.pgCtl, "-D", c.data, "-m", "fast", "-w", "-t", "240", "stop")
}

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// TestPrimaryStopAndRestart is a primary switch-over seen from the
// gateway: the database goes away under traffic and comes back on the
// same address. While it is away every call answers 503 unavailable
// (nothing is released unrecorded); once it is back the same gateway
// process serves again, and the audit log verifies.
func TestPrimaryStopAndRestart(t *testing.T) {
	ollama := ollamaURL(t)
	c := startCluster(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE assist")
	admin.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dbURL := c.url("assist")
	if err := pgdb.Migrate(ctx, dbURL, schema.Sets()...); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ay := auditYAML(t)
	g := startGatewayWithDB(t, u, u.Host, hostYAML("h1", ollama, 2), ay+"models:\n  chat: "+testModel()+"\n")

	const risk = `{"drugs":[{"name":"Eliquis 5 mg"},{"name":"Burana 400 mg"}],"patient":{"age":82,"egfr":35,"falls":true}}`
	gen := fmt.Sprintf(`{"model":%q,"prompt":%q,"stream":false,"options":{"num_predict":4}}`, testModel(), promptMarker)
	type outcome struct {
		status int
		seq    int64 // the risk assessment's audit record (200 only)
		body   string
	}
	call := func(path, body string) outcome {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		resp, err := post(rctx, g.URL, g.Tokens[assist.RoleClinician], path, body)
		if err != nil {
			return outcome{body: err.Error()}
		}
		b := readAll(t, resp)
		o := outcome{status: resp.StatusCode, body: b}
		if resp.StatusCode == http.StatusOK && path == "/v1/risk/assess" {
			if o.seq, err = strconv.ParseInt(resp.Header.Get("X-Sote-Audit-Seq"), 10, 64); err != nil {
				o.status = 0 // released without naming its record
			}
		}
		return o
	}

	// Traffic runs through the stop and the restart.
	var mu sync.Mutex
	var outcomes []outcome
	stopTraffic := make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	endTraffic := func() { once.Do(func() { close(stopTraffic) }); wg.Wait() }
	t.Cleanup(endTraffic) // before the gateway and the cluster stop
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stopTraffic:
					return
				default:
				}
				path, body := "/v1/risk/assess", risk
				if (w+i)%2 == 1 {
					path, body = "/api/generate", gen
				}
				o := call(path, body)
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	waitFor := func(what string, ok func(outcome) bool) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			mu.Lock()
			n := len(outcomes)
			seen := n > 0 && ok(outcomes[n-1])
			mu.Unlock()
			if seen {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	waitFor("a first answer", func(o outcome) bool { return o.status == http.StatusOK })

	c.stop(t) // the primary goes away
	mu.Lock()
	stoppedAt := len(outcomes)
	mu.Unlock()
	waitFor("503 answers while the database is down", func(o outcome) bool { return o.status == http.StatusServiceUnavailable })
	// Answers while down: check one directly, for its kind.
	o := call("/v1/risk/assess", risk)
	if o.status != http.StatusServiceUnavailable || !strings.Contains(o.body, `"unavailable"`) {
		t.Errorf("risk assessment with the database down: %d %s", o.status, o.body)
	}
	o = call("/api/generate", gen)
	if o.status != http.StatusServiceUnavailable || !strings.Contains(o.body, `"unavailable"`) {
		t.Errorf("generate with the database down: %d %s", o.status, o.body)
	}

	c.start(t) // the new primary, on the same address
	waitFor("the gateway to serve again without a restart", func(o outcome) bool { return o.status == http.StatusOK })
	mu.Lock()
	resumedAt := len(outcomes)
	mu.Unlock()
	// A few more answers after the switch-over, then stop the traffic.
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(outcomes)
		mu.Unlock()
		if n >= resumedAt+6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for more answers after the switch-over")
		}
	}
	endTraffic()

	// Every answer was 200 or 503; every released risk assessment names
	// a durable record.
	var ok, unavailable int
	var seqs []int64
	for _, o := range outcomes {
		switch o.status {
		case http.StatusOK:
			ok++
			if o.seq > 0 {
				seqs = append(seqs, o.seq)
			}
		case http.StatusServiceUnavailable:
			unavailable++
		default:
			t.Errorf("answer %d: want 200 or 503: %.300s", o.status, o.body)
		}
	}
	t.Logf("%d answers: %d served, %d unavailable (stop after answer %d, serving again from answer %d)", len(outcomes), ok, unavailable, stoppedAt, resumedAt)
	db, err := pgdb.Open(ctx, dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var missing int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM unnest($1::bigint[]) s WHERE NOT EXISTS (SELECT 1 FROM audit_records r WHERE r.seq = s)`, seqs).Scan(&missing); err != nil {
		t.Fatal(err)
	}
	if missing != 0 {
		t.Fatalf("%d of %d released risk assessments have no audit record after the switch-over", missing, len(seqs))
	}
	var records int64
	if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_records`).Scan(&records); err != nil {
		t.Fatal(err)
	}
	cp, err := audit.SignStoredCheckpoint(ctx, db, auditPrivateKey(t, ay), audit.DefaultOrigin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyDB(ctx, db, audit.VerifyOptions{PublicKey: auditPublicKey(t, ay)})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.VerifiedSize != cp.Size || rep.LastSeq != records {
		t.Fatalf("audit log after the switch-over: ok %v, verified %d, last seq %d, %d records: %v", rep.OK(), rep.VerifiedSize, rep.LastSeq, records, rep.Findings)
	}
}
