package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

func testPub() ed25519.PublicKey { return testCheckpointKey().Public().(ed25519.PublicKey) }

// openTestLog opens a Log with test keys and no background jobs.
func openTestLog(t testing.TB, db *pgxpool.Pool, mod func(*Options)) *Log {
	t.Helper()
	opts := Options{HMACKey: testHMACKey, CheckpointKey: testCheckpointKey(), CheckpointEvery: -1,
		PurgeEvery: -1, Logger: testLogger()}
	if mod != nil {
		mod(&opts)
	}
	l, err := Open(context.Background(), db, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// testEvent is a realistic AI output event carrying a patient identifier
// and prompt text that must never appear in clear.
func testEvent(i int) Event {
	return Event{
		Kind:      KindAIOutput,
		RequestID: fmt.Sprintf("req-%d", i),
		Actor:     assist.Actor{TokenID: fmt.Sprintf("tok-%d", i%4), Name: "ward 3", Role: assist.RoleClinician, Organisation: "Pirkanmaa"},
		Task:      assist.TaskSummary, Patient: []string{testHETU, testHETU2}[i%2],
		Model: "llama3.2:3b", ModelDigest: "sha256:0123", Host: "gpu-1", TemplateID: "visit_summary", TemplateVersion: "3",
		Input:   []byte(fmt.Sprintf("%s %d (hetu %s)", testPrompt, i, testHETU)),
		Output:  []byte(fmt.Sprintf("summary %d", i)),
		Sources: []string{"kb:guideline#4"}, Latency: 1500 * time.Millisecond, InputTokens: 120, OutputTokens: 40,
		Outcome: OutcomeOK, Attrs: map[string]string{"kb_version": "2025-03", "route": "/v1/summary"},
	}
}

func mustVerifyDB(t testing.TB, db *pgxpool.Pool) *Report {
	t.Helper()
	rep, err := VerifyDB(context.Background(), db, VerifyOptions{PublicKey: testPub()})
	if err != nil {
		t.Fatalf("VerifyDB: %v", err)
	}
	if !rep.OK() {
		for _, f := range rep.Findings {
			t.Errorf("finding: %s", f)
		}
		t.FailNow()
	}
	return rep
}

func TestAppendStoresTraceableRecord(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewPool(t, Migrations)
	contentKey := bytes.Repeat([]byte{5}, 32)
	l := openTestLog(t, db, func(o *Options) { o.ContentKey, o.Retention = contentKey, 24*time.Hour })

	ev := testEvent(1)
	ev.Attrs["note"] = "asked about " + testHETU2 // a careless caller
	rc, err := l.Append(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Seq != 1 || len(rc.LeafHash) != 32 {
		t.Fatalf("receipt %+v", rc)
	}
	rec, err := l.Record(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	in := sha256.Sum256(ev.Input)
	switch {
	case !bytes.Equal(rec.Patient, Pseudonymise(testHMACKey, testHETU2)) && !bytes.Equal(rec.Patient, Pseudonymise(testHMACKey, ev.Patient)):
		t.Error("patient is not the keyed pseudonym")
	case !bytes.Equal(rec.InputHash, in[:]):
		t.Error("input hash is not SHA-256 of the input")
	case rec.ModelDigest != ev.ModelDigest || rec.ActorRole != assist.RoleClinician || rec.Task != assist.TaskSummary:
		t.Errorf("fields not stored: %+v", rec)
	case len(FindHETU(rec.Attrs["note"])) != 0 || !strings.Contains(rec.Attrs["note"], "[hetu:"):
		t.Errorf("identity code in an attribute was not redacted")
	case !rec.ContentStored || !bytes.Equal(rec.LeafHash, rc.LeafHash) || !bytes.Equal(rec.PrevHash, zeroHash):
		t.Errorf("chain fields: %+v", rec)
	case !bytes.Equal(rec.ComputeLeafHash(), rec.LeafHash):
		t.Error("stored record does not hash to its leaf hash")
	}

	review, err := l.Append(ctx, Event{Kind: KindReview, RelatesTo: rc.Seq, Outcome: OutcomeEdited,
		Actor: ev.Actor, OutputHash: bytes.Repeat([]byte{1}, 32)})
	if err != nil || review.Seq != 2 {
		t.Fatalf("review: %v %+v", err, review)
	}
	_, err = l.Append(ctx, Event{Kind: KindReview, RelatesTo: 99, Outcome: OutcomeAccepted})
	noteErr(err)
	if assist.KindOf(err) != assist.KindNotFound {
		t.Errorf("review of a future record: %v", err)
	}

	// Nothing in clear in the database: no identity code, no prompt text.
	var dump string
	if err := db.QueryRow(ctx, `SELECT coalesce(string_agg(r::text, ' '), '') || (SELECT coalesce(string_agg(c::text, ' '), '') FROM audit_content c)
		FROM audit_records r`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if len(FindHETU(dump)) > 0 || strings.Contains(dump, "rintakipua") {
		t.Error("the database holds an identity code or prompt text in clear")
	}

	c, err := l.Content(ctx, 1)
	if err != nil || !bytes.Equal(c.Input, ev.Input) || !bytes.Equal(c.Output, ev.Output) {
		t.Fatalf("content round trip: %v", err)
	}
	if _, err := l.Content(ctx, 2); assist.KindOf(err) != assist.KindNotFound {
		t.Errorf("content of a record without content: %v", err)
	}

	cp, err := l.Checkpoint(ctx)
	if err != nil || cp.Size != 2 {
		t.Fatalf("checkpoint: %v %+v", err, cp)
	}
	if err := cp.VerifySignature(l.PublicKey()); err != nil {
		t.Fatal(err)
	}
	for seq := int64(1); seq <= 2; seq++ {
		r, _ := l.Record(ctx, seq)
		p, err := l.InclusionProof(ctx, seq, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyInclusion(&r, p, cp.Root); err != nil {
			t.Errorf("seq %d: %v", seq, err)
		}
	}
	mustVerifyDB(t, db)
}

func TestAppendRejectsMalformedEvents(t *testing.T) {
	db, _ := pgtest.NewPool(t, Migrations)
	l := openTestLog(t, db, nil)
	tests := []struct {
		name string
		ev   Event
	}{
		{"no kind", Event{}},
		{"upper-case kind", Event{Kind: "AI.Output"}},
		{"kind with space", Event{Kind: "ai output"}},
		{"bad outcome", Event{Kind: KindAIOutput, Outcome: "Not OK"}},
		{"negative latency", Event{Kind: KindAIOutput, Latency: -1}},
		{"negative tokens", Event{Kind: KindAIOutput, InputTokens: -1}},
		{"short hash", Event{Kind: KindAIOutput, InputHash: []byte{1, 2}}},
		{"hash disagrees with content", Event{Kind: KindAIOutput, Input: []byte(testPrompt), InputHash: make([]byte, 32)}},
		{"NUL in a field", Event{Kind: KindAIOutput, Model: "a\x00b"}},
		{"invalid UTF-8", Event{Kind: KindAIOutput, Host: "\xff"}},
		{"huge field", Event{Kind: KindAIOutput, RequestID: strings.Repeat("x", maxFieldLen+1)}},
		{"empty attribute name", Event{Kind: KindAIOutput, Attrs: map[string]string{"": "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ev.Patient = testHETU
			_, err := l.Append(context.Background(), tt.ev)
			noteErr(err)
			if assist.KindOf(err) != assist.KindInvalid {
				t.Fatalf("got %v, want invalid", err)
			}
			if strings.Contains(assist.MessageOf(err), testHETU) {
				t.Error("the message names the identifier")
			}
		})
	}
	if n, _ := l.Size(context.Background()); n != 0 {
		t.Errorf("%d records written", n)
	}
}

func TestRestartRecoversTreeState(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewPool(t, Migrations)
	l1 := openTestLog(t, db, func(o *Options) { o.MaxBatch = 7 })
	for i := 0; i < 37; i++ {
		if _, err := l1.Append(ctx, testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	cp1, err := l1.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = l1.Append(ctx, testEvent(0))
	if assist.KindOf(err) != assist.KindUnavailable {
		t.Errorf("append after Close: %v", err)
	}

	l2 := openTestLog(t, db, nil)
	for i := 0; i < 40; i++ {
		rc, err := l2.Append(ctx, testEvent(i))
		if err != nil {
			t.Fatal(err)
		}
		if rc.Seq != int64(38+i) {
			t.Fatalf("seq %d after restart, want %d", rc.Seq, 38+i)
		}
	}
	cp2, err := l2.Checkpoint(ctx)
	if err != nil || cp2.Size != 77 {
		t.Fatalf("checkpoint: %v %+v", err, cp2)
	}
	p, err := l2.ConsistencyProof(ctx, cp1.Size, cp2.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyConsistency(p, cp1.Root, cp2.Root); err != nil {
		t.Fatalf("consistency 37 -> 77: %v", err)
	}
	for seq := int64(1); seq <= cp2.Size; seq++ {
		r, _ := l2.Record(ctx, seq)
		p, err := l2.InclusionProof(ctx, seq, cp2.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyInclusion(&r, p, cp2.Root); err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
	}
	rep := mustVerifyDB(t, db)
	if rep.VerifiedSize != 77 || rep.Records != 77 {
		t.Errorf("report %+v", rep)
	}
}

// TestConcurrentWriters: 64 goroutines append at once; every caller gets a
// distinct seq, the sequence has no gaps, the chain no forks.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewPool(t, Migrations)
	l := openTestLog(t, db, nil)
	const writers, each = 64, 30
	seqs := make(chan int64, writers*each)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				rc, err := l.Append(ctx, testEvent(w*each+i))
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- rc.Seq
			}
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[int64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Fatalf("seq %d given twice", s)
		}
		seen[s] = true
	}
	for s := int64(1); s <= writers*each; s++ {
		if !seen[s] {
			t.Fatalf("seq %d never given", s)
		}
	}
	assertChainShape(t, db, writers*each)
	if _, err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerifyDB(t, db); rep.VerifiedSize != writers*each {
		t.Errorf("verified %d", rep.VerifiedSize)
	}
}

// assertChainShape checks in SQL: seq 1..n, one successor per record.
func assertChainShape(t testing.TB, db *pgxpool.Pool, n int64) {
	t.Helper()
	var count, minSeq, maxSeq, prevs, links int64
	err := db.QueryRow(context.Background(), `SELECT count(*), min(seq), max(seq), count(DISTINCT prev_hash),
		(SELECT count(*) FROM audit_records a JOIN audit_records b ON b.seq = a.seq + 1 AND b.prev_hash = a.leaf_hash)
		FROM audit_records`).Scan(&count, &minSeq, &maxSeq, &prevs, &links)
	if err != nil {
		t.Fatal(err)
	}
	if count != n || minSeq != 1 || maxSeq != n || prevs != n || links != n-1 {
		t.Fatalf("chain shape: count %d min %d max %d distinct prev %d links %d, want %d records", count, minSeq, maxSeq, prevs, links, n)
	}
}

// TestTwoProcessesShareTheLog: two Logs (two gateway processes) on one
// database still produce one gapless chain.
func TestTwoProcessesShareTheLog(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewPool(t, Migrations)
	logs := []*Log{openTestLog(t, db, nil), openTestLog(t, db, nil)}
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := logs[w%2].Append(ctx, testEvent(i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	assertChainShape(t, db, 320)
	for _, l := range logs {
		if _, err := l.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mustVerifyDB(t, db)
}

// withAppRole creates a login role with GrantAppRole's privileges and
// returns a pool connected as it.
func withAppRole(t *testing.T, db *pgxpool.Pool, dbURL string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	role := fmt.Sprintf("audit_app_%d", time.Now().UnixNano()%1e9)
	if _, err := db.Exec(ctx, `CREATE ROLE `+role+` LOGIN PASSWORD 'app-pw'`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec(context.Background(), `DROP OWNED BY `+role)
		_, _ = db.Exec(context.Background(), `DROP ROLE IF EXISTS `+role)
	})
	if err := GrantAppRole(ctx, db, role); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(dbURL)
	u.User = url.UserPassword(role, "app-pw")
	app, err := pgdb.Open(ctx, u.String(), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	return app
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestDatabaseProtections: the gateway's role can only insert and read;
// even the owner cannot change rows while the triggers are on; expired
// content is the one thing that can be erased, through the purge function.
func TestDatabaseProtections(t *testing.T) {
	ctx := context.Background()
	db, dbURL := pgtest.NewPool(t, Migrations)
	app := withAppRole(t, db, dbURL)
	var now atomic.Pointer[time.Time]
	start := time.Now().Add(-48 * time.Hour)
	now.Store(&start)
	l := openTestLog(t, app, func(o *Options) {
		o.ContentKey, o.Retention = bytes.Repeat([]byte{5}, 32), 24*time.Hour
		o.Clock = func() time.Time { return *now.Load() }
	})
	if _, err := l.Append(ctx, testEvent(1)); err != nil { // content expired a day ago
		t.Fatal(err)
	}
	later := time.Now()
	now.Store(&later)
	for i := 2; i <= 17; i++ { // content kept for a day; enough records for stored tree nodes
		if _, err := l.Append(ctx, testEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}

	for _, tbl := range []string{"audit_records", "audit_nodes", "audit_checkpoints", "audit_content"} {
		for _, stmt := range []string{
			`UPDATE ` + tbl + ` SET ` + map[string]string{"audit_records": "model = 'x'", "audit_nodes": "hash = ''",
				"audit_checkpoints": "size = 0", "audit_content": "key_id = 'x'"}[tbl],
			`DELETE FROM ` + tbl,
			`TRUNCATE ` + tbl,
		} {
			t.Run("app role: "+stmt, func(t *testing.T) {
				_, err := app.Exec(ctx, stmt)
				if pgCode(err) != "42501" {
					t.Errorf("got %v, want insufficient_privilege", err)
				}
			})
			if tbl == "audit_content" && strings.HasPrefix(stmt, "DELETE") {
				stmt += ` WHERE expires_at > now()` // expired rows are the purge path's business
			}
			t.Run("owner: "+stmt, func(t *testing.T) {
				_, err := db.Exec(ctx, stmt)
				if pgCode(err) != "42501" || !strings.Contains(err.Error(), "audit") {
					t.Errorf("got %v, want the append-only trigger", err)
				}
			})
		}
	}

	n, err := l.PurgeContent(ctx)
	if err != nil || n != 1 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if _, err := l.Content(ctx, 1); assist.KindOf(err) != assist.KindNotFound {
		t.Errorf("expired content still readable: %v", err)
	}
	if c, err := l.Content(ctx, 2); err != nil || len(c.Input) == 0 {
		t.Errorf("unexpired content lost: %v", err)
	}
	last, err := l.Record(ctx, 18)
	if err != nil || last.Kind != KindContentPurge || last.Attrs["purged_rows"] != "1" {
		t.Errorf("purge was not recorded: %v %+v", err, last)
	}
	if _, err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	mustVerifyDB(t, db) // hashes still verify without the content
}

// TestDatabaseOutage: the database goes away mid-traffic. Appends fail
// with unavailable (the gateway answers 503); every acknowledged record is
// durable; after the database returns the same Log serves again.
func TestDatabaseOutage(t *testing.T) {
	ctx := context.Background()
	db, dbURL := pgtest.NewPool(t, Migrations)
	u, _ := url.Parse(dbURL)
	proxy := pgtest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	viaProxy, err := pgdb.Open(ctx, u.String(), 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(viaProxy.Close)
	l := openTestLog(t, viaProxy, func(o *Options) { o.WriteTimeout = 3 * time.Second })

	var (
		mu       sync.Mutex
		receipts []Receipt
		failures = map[assist.Kind]int{}
		phase    atomic.Int32 // 0 before, 1 during, 2 after the outage
		okAfter  atomic.Int32
		failedIn atomic.Int32
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ph := phase.Load()
				rc, err := l.Append(ctx, testEvent(w*100000+i))
				mu.Lock()
				if err != nil {
					noteErr(err)
					failures[assist.KindOf(err)]++
					if ph == 1 {
						failedIn.Add(1)
					}
				} else {
					receipts = append(receipts, rc)
					if ph == 2 {
						okAfter.Add(1)
					}
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}
	waitFor(t, "traffic before the outage", func() bool { mu.Lock(); defer mu.Unlock(); return len(receipts) >= 50 })
	phase.Store(1)
	proxy.Stop()
	waitFor(t, "failed appends during the outage", func() bool { return failedIn.Load() >= 20 })
	proxy.Start()
	phase.Store(2)
	waitFor(t, "appends after recovery", func() bool { return okAfter.Load() >= 50 })
	close(stop)
	wg.Wait()

	for k, n := range failures {
		if k != assist.KindUnavailable {
			t.Errorf("%d appends failed with %q, want unavailable", n, k)
		}
	}
	if m := assist.MessageOf(assist.E(assist.KindUnavailable, "x", "the audit log is unavailable")); strings.Contains(m, "postgres") {
		t.Error("message leaks driver detail")
	}
	// Every acknowledged record is in the database, unchanged.
	for _, rc := range receipts {
		r, err := NewStore(db).Record(ctx, rc.Seq)
		if err != nil || !bytes.Equal(r.LeafHash, rc.LeafHash) {
			t.Fatalf("acknowledged seq %d: %v", rc.Seq, err)
		}
	}
	if _, err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	mustVerifyDB(t, db)
}

// TestConnectionsKilled: an administrator terminates the gateway's
// database sessions; the Log reconnects on its own.
func TestConnectionsKilled(t *testing.T) {
	ctx := context.Background()
	db, dbURL := pgtest.NewPool(t, Migrations)
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	l := openTestLog(t, db, nil)
	var ok, failed atomic.Int32
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := l.Append(ctx, testEvent(i))
				if err != nil {
					noteErr(err)
					if assist.KindOf(err) != assist.KindUnavailable {
						t.Errorf("append failed with %v, want unavailable", err)
					}
					failed.Add(1)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for round := 0; round < 3; round++ {
		target := ok.Load() + 30
		waitFor(t, "appends", func() bool { return ok.Load() >= target })
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
	}
	target := ok.Load() + 30
	waitFor(t, "appends after the last kill", func() bool { return ok.Load() >= target })
	close(stop)
	wg.Wait()
	t.Logf("%d appended, %d failed while sessions were killed", ok.Load(), failed.Load())
	if _, err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	mustVerifyDB(t, db)
}

// waitFor polls cond until it holds; it fails after a generous deadline
// (a hang, not a performance threshold).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestQueryWithProofs(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewPool(t, Migrations)
	l := openTestLog(t, db, nil)
	for i := 0; i < 25; i++ {
		ev := testEvent(i)
		if i%5 == 0 {
			ev.Outcome, ev.ErrorKind, ev.Model = OutcomeError, assist.KindUpstream, "other-model"
		}
		if _, err := l.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, q Query, want int, keep func(r *Record) bool) {
		t.Helper()
		var got []Record
		for page := 0; ; page++ {
			p, err := l.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Checkpoint.VerifySignature(l.PublicKey()); err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Entries {
				if e.Proof == nil {
					t.Fatalf("seq %d has no proof", e.Record.Seq)
				}
				if err := VerifyInclusion(&e.Record, *e.Proof, p.Checkpoint.Root); err != nil {
					t.Fatalf("seq %d: %v", e.Record.Seq, err)
				}
				if !keep(&e.Record) {
					t.Errorf("seq %d does not match the query", e.Record.Seq)
				}
				got = append(got, e.Record)
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
		if len(got) != want {
			t.Errorf("got %d records, want %d", len(got), want)
		}
		for i := 1; i < len(got); i++ {
			if (got[i].Seq < got[i-1].Seq) == q.Ascending {
				t.Errorf("order broken at %d", got[i].Seq)
			}
		}
	}
	pseudo := Pseudonymise(testHMACKey, testHETU)
	t.Run("patient by clear identifier", func(t *testing.T) {
		check(t, Query{Patient: strings.ToLower(testHETU), Limit: 4}, 13, func(r *Record) bool { return bytes.Equal(r.Patient, pseudo) })
	})
	t.Run("outcome and model", func(t *testing.T) {
		check(t, Query{Outcome: OutcomeError, Model: "other-model", Ascending: true, Limit: 2}, 5,
			func(r *Record) bool { return r.Outcome == OutcomeError })
	})
	t.Run("actor and task", func(t *testing.T) {
		check(t, Query{ActorTokenID: "tok-1", Task: assist.TaskSummary}, 6, func(r *Record) bool { return r.ActorTokenID == "tok-1" })
	})
	t.Run("time range", func(t *testing.T) {
		check(t, Query{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour), Limit: 10}, 25, func(*Record) bool { return true })
		check(t, Query{To: time.Now().Add(-time.Hour)}, 0, func(*Record) bool { return true })
	})
	t.Run("bad cursor", func(t *testing.T) {
		_, err := l.Query(ctx, Query{Cursor: "x"})
		if assist.KindOf(err) != assist.KindInvalid {
			t.Errorf("got %v", err)
		}
	})
}

func TestPeriodicCheckpoints(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewPool(t, Migrations)
	l := openTestLog(t, db, func(o *Options) { o.CheckpointEvery = 20 * time.Millisecond })
	if _, err := l.Append(ctx, testEvent(1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a periodic checkpoint", func() bool {
		cp, err := l.LatestCheckpoint(ctx)
		return err == nil && cp.Size == 1
	})
	if _, err := l.Append(ctx, testEvent(2)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cp, err := NewStore(db).LatestCheckpoint(ctx)
	if err != nil || cp.Size != 2 {
		t.Errorf("Close did not sign a final checkpoint: %v %+v", err, cp)
	}
}

// TestRowDecodersAgree: the fast binary row decoder (scans, verification,
// export) and pgx's Scan (single-record reads) give the same records.
func TestRowDecodersAgree(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewPool(t, Migrations)
	l := openTestLog(t, db, nil)
	odd := []Event{
		testEvent(1),
		{Kind: KindConfigReload},
		{Kind: KindTokenCreate, Attrs: map[string]string{`quote"d`: "tab\there", "ä": "\u2028 new\nline \\ <html>"},
			Sources: []string{"", `a"b`, "ünïcode"}, RelatesTo: 1, ErrorKind: assist.KindInternal},
	}
	for _, ev := range odd {
		if _, err := l.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	err := l.Scan(ctx, 1, 0, func(fast *Record) error {
		slow, err := l.Record(ctx, fast.Seq)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(normal(*fast), normal(slow)) {
			t.Errorf("seq %d:\nfast %+v\nslow %+v", fast.Seq, *fast, slow)
		}
		if !bytes.Equal(fast.ComputeLeafHash(), fast.LeafHash) {
			t.Errorf("seq %d does not hash to its leaf", fast.Seq)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
