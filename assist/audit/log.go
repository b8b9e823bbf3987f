package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/transparency-dev/merkle/compact"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb"
)

// Options configures a Log. HMACKey and CheckpointKey are required.
type Options struct {
	// HMACKey pseudonymises patient identifiers (at least 32 bytes). It
	// must stay the same for the life of the log.
	HMACKey []byte
	// CheckpointKey signs checkpoints. Verifiers need its public half
	// (CheckpointKey.Public(), written by MarshalPublicKey).
	CheckpointKey ed25519.PrivateKey
	// Origin names this log in checkpoints; DefaultOrigin when empty.
	Origin string
	// ContentKey (32 bytes) turns on encrypted storage of full input and
	// output; nil stores hashes only.
	ContentKey []byte
	// Retention is how long stored content is kept; required with ContentKey.
	Retention time.Duration
	// CheckpointEvery is how often a new checkpoint is signed when records
	// were added (default 1 minute; negative: only on demand and on Close).
	CheckpointEvery time.Duration
	// PurgeEvery is how often expired content is erased (default 1 hour;
	// negative: never, call PurgeContent yourself).
	PurgeEvery time.Duration
	// MaxBatch bounds the records committed in one transaction (default 512).
	MaxBatch int
	// QueueSize bounds the records waiting for the writer (default 4096).
	QueueSize int
	// WriteTimeout bounds one batch transaction (default 10s).
	WriteTimeout time.Duration
	// Clock gives record and checkpoint times (default time.Now).
	Clock func() time.Time
	// Logger receives ids and counts only (default: discard).
	Logger *slog.Logger
}

// Log appends audit records. It is safe for concurrent use; Close it to
// stop the writer and sign a final checkpoint. The embedded Store gives
// the read side (records, proofs, checkpoints).
type Log struct {
	*Store
	opts   Options
	sealer *sealer
	log    *slog.Logger

	queue   chan *request
	quit    chan struct{} // closed by Close: the writer drains and stops
	stopped chan struct{} // closed by the writer when it has stopped
	bgQuit  chan struct{}
	bg      sync.WaitGroup
	once    sync.Once

	// Writer state: only the writer goroutine (and Open) touch these.
	rng      *compact.Range
	tail     tailInfo
	dirty    bool
	hashBuf  []byte
	leafHash func(seq, micros int64, body, prev []byte) Hash

	mu        sync.Mutex // guards the committed tree and checkpoint bookkeeping
	committed struct {
		size int64
		root Hash
	}
	cpMu   sync.Mutex // serialises signing
	cpSize int64      // size of the newest checkpoint this log knows of
}

type request struct {
	rec         Record // all fields but Seq, Time, PrevHash, LeafHash
	body        []byte // appendBody(&rec)
	sourcesJSON string
	attrsJSON   string
	inputCT     []byte
	outputCT    []byte
	expires     time.Time
	done        chan result
}

type result struct {
	rcpt Receipt
	err  error
}

// Open starts a Log over a database migrated with Migrations, loading the
// tree state from the stored records. Errors: invalid options,
// unavailable when the database cannot be read.
func Open(ctx context.Context, db *pgxpool.Pool, opts Options) (*Log, error) {
	const op = "audit.Open"
	if len(opts.HMACKey) < MinHMACKeyLen {
		return nil, assist.E(assist.KindInvalid, op, fmt.Sprintf("the audit HMAC key must be at least %d bytes", MinHMACKeyLen))
	}
	if len(opts.CheckpointKey) != ed25519.PrivateKeySize {
		return nil, assist.E(assist.KindInvalid, op, "the audit checkpoint key must be an Ed25519 private key")
	}
	if opts.Origin == "" {
		opts.Origin = DefaultOrigin
	}
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = time.Minute
	}
	if opts.PurgeEvery == 0 {
		opts.PurgeEvery = time.Hour
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Log{
		Store:   NewStore(db),
		opts:    opts,
		log:     opts.Logger,
		queue:   make(chan *request, opts.QueueSize),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
		bgQuit:  make(chan struct{}),
	}
	if opts.ContentKey != nil {
		if opts.Retention <= 0 {
			return nil, assist.E(assist.KindInvalid, op, "a content retention period is required when content storage is on")
		}
		s, err := newSealer(opts.ContentKey)
		if err != nil {
			return nil, assist.E(assist.KindInvalid, op, "the audit content key must be 32 bytes", err)
		}
		l.sealer = s
	}
	h := sha256.New()
	l.leafHash = func(seq, micros int64, body, prev []byte) Hash {
		return leafHashWith(h, l.hashBuf, seq, micros, body, prev)
	}
	l.hashBuf = make([]byte, 0, 64)
	if err := l.reload(ctx, db); err != nil {
		return nil, assist.E(assist.KindUnavailable, op, "the audit log cannot be read", pgdb.LogSafe(err))
	}
	if cp, err := l.LatestCheckpoint(ctx); err == nil {
		l.cpSize = cp.Size
	} else if assist.KindOf(err) != assist.KindNotFound {
		return nil, err
	}
	go l.run()
	if opts.CheckpointEvery > 0 {
		l.every(opts.CheckpointEvery, func(ctx context.Context) {
			if _, err := l.checkpointIfGrown(ctx); err != nil {
				l.log.Warn("audit checkpoint failed", "err", pgdb.LogSafe(err))
			}
		})
	}
	if l.sealer != nil && opts.PurgeEvery > 0 {
		l.every(opts.PurgeEvery, func(ctx context.Context) {
			if n, err := l.PurgeContent(ctx); err != nil {
				l.log.Warn("audit content purge failed", "err", pgdb.LogSafe(err))
			} else if n > 0 {
				l.log.Info("audit content purged", "rows", n)
			}
		})
	}
	return l, nil
}

// PublicKey returns the key that verifies this log's checkpoints.
func (l *Log) PublicKey() ed25519.PublicKey {
	return l.opts.CheckpointKey.Public().(ed25519.PublicKey)
}

// Pseudonym returns the stored pseudonym of a clear patient identifier.
func (l *Log) Pseudonym(patient string) Hash { return Pseudonymise(l.opts.HMACKey, patient) }

// every runs fn periodically until Close.
func (l *Log) every(d time.Duration, fn func(ctx context.Context)) {
	l.bg.Add(1)
	go func() {
		defer l.bg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-l.bgQuit:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), l.opts.WriteTimeout)
				fn(ctx)
				cancel()
			}
		}
	}()
}

var errClosed = assist.E(assist.KindUnavailable, "audit.Append", "the audit log is closed")

// Append durably records ev and returns its receipt. It returns only after
// the transaction holding the record has committed. Errors: invalid (a
// malformed event; the message names the field, never its value),
// not_found (RelatesTo does not exist), unavailable (the database cannot
// be written; nothing may be served), canceled/timeout from ctx — in that
// case the record may still have been written.
func (l *Log) Append(ctx context.Context, ev Event) (Receipt, error) {
	req, err := l.prepare(ev)
	if err != nil {
		return Receipt{}, err
	}
	select {
	case l.queue <- req:
	case <-ctx.Done():
		return Receipt{}, ctxErr(ctx)
	case <-l.quit:
		return Receipt{}, errClosed
	}
	select {
	case res := <-req.done:
		return res.rcpt, res.err
	case <-ctx.Done():
		return Receipt{}, ctxErr(ctx)
	case <-l.stopped:
		select {
		case res := <-req.done:
			return res.rcpt, res.err
		default:
			return Receipt{}, errClosed
		}
	}
}

func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return assist.E(assist.KindTimeout, "audit.Append", "the audit log did not answer in time", ctx.Err())
	}
	return assist.E(assist.KindCanceled, "audit.Append", ctx.Err())
}

// Limits on event fields; values are metadata, not content.
const (
	maxFieldLen = 1024
	maxSources  = 1000
	maxAttrs    = 64
)

// prepare validates ev and does the per-record work that needs no seq:
// pseudonymising, redaction, hashing, encryption and body encoding. It
// runs in the caller's goroutine.
func (l *Log) prepare(ev Event) (*request, error) {
	const op = "audit.Append"
	bad := func(msg string) error { return assist.E(assist.KindInvalid, op, msg) }
	if !validName(string(ev.Kind)) {
		return nil, bad("the audit event kind is missing or malformed")
	}
	if ev.Outcome != "" && !validName(string(ev.Outcome)) {
		return nil, bad("the audit outcome is malformed")
	}
	if ev.Latency < 0 || ev.InputTokens < 0 || ev.OutputTokens < 0 || ev.RelatesTo < 0 {
		return nil, bad("audit latency, token counts and relates_to must not be negative")
	}
	if len(ev.Sources) > maxSources || len(ev.Attrs) > maxAttrs {
		return nil, bad("too many audit sources or attributes")
	}
	r := Record{
		Kind:            ev.Kind,
		RequestID:       ev.RequestID,
		ActorTokenID:    ev.Actor.TokenID,
		ActorName:       ev.Actor.Name,
		ActorRole:       ev.Actor.Role,
		ActorOrg:        ev.Actor.Organisation,
		Task:            ev.Task,
		Patient:         Pseudonymise(l.opts.HMACKey, ev.Patient),
		Model:           ev.Model,
		ModelDigest:     ev.ModelDigest,
		Host:            ev.Host,
		TemplateID:      ev.TemplateID,
		TemplateVersion: ev.TemplateVersion,
		LatencyMicros:   ev.Latency.Microseconds(),
		InputTokens:     int64(ev.InputTokens),
		OutputTokens:    int64(ev.OutputTokens),
		Outcome:         ev.Outcome,
		ErrorKind:       string(ev.ErrorKind),
		RelatesTo:       ev.RelatesTo,
	}
	// Metadata fields must be clean text and never hold an identity code.
	for _, f := range []*string{&r.RequestID, &r.ActorTokenID, &r.ActorName, (*string)(&r.ActorRole), &r.ActorOrg,
		(*string)(&r.Task), &r.Model, &r.ModelDigest, &r.Host, &r.TemplateID, &r.TemplateVersion, &r.ErrorKind} {
		if err := l.clean(f); err != nil {
			return nil, bad("an audit event field " + err.Error())
		}
	}
	if len(ev.Sources) > 0 {
		r.Sources = make([]string, len(ev.Sources))
		for i, s := range ev.Sources {
			r.Sources[i] = s
			if err := l.clean(&r.Sources[i]); err != nil {
				return nil, bad("an audit source id " + err.Error())
			}
		}
	}
	if len(ev.Attrs) > 0 {
		r.Attrs = make(map[string]string, len(ev.Attrs))
		for k, v := range ev.Attrs {
			if err := l.clean(&k); err != nil || k == "" {
				return nil, bad("an audit attribute name is empty or malformed")
			}
			if err := l.clean(&v); err != nil {
				return nil, bad("an audit attribute value " + err.Error())
			}
			r.Attrs[k] = v
		}
	}
	var err error
	if r.InputHash, err = contentHash(ev.Input, ev.InputHash); err != nil {
		return nil, bad("the audit input " + err.Error())
	}
	if r.OutputHash, err = contentHash(ev.Output, ev.OutputHash); err != nil {
		return nil, bad("the audit output " + err.Error())
	}
	req := &request{done: make(chan result, 1)}
	if l.sealer != nil && (len(ev.Input) > 0 || len(ev.Output) > 0) {
		if len(ev.Input) > 0 {
			if req.inputCT, err = l.sealer.seal("input", ev.Input, r.InputHash); err != nil {
				return nil, assist.E(assist.KindInternal, op, err)
			}
		}
		if len(ev.Output) > 0 {
			if req.outputCT, err = l.sealer.seal("output", ev.Output, r.OutputHash); err != nil {
				return nil, assist.E(assist.KindInternal, op, err)
			}
		}
		r.ContentStored = true
		req.expires = l.opts.Clock().Add(l.opts.Retention)
	}
	req.rec = r
	req.body = appendBody(make([]byte, 0, 256), &r)
	req.sourcesJSON, req.attrsJSON = "[]", "{}"
	if len(r.Sources) > 0 {
		b, _ := json.Marshal(r.Sources)
		req.sourcesJSON = string(b)
	}
	if len(r.Attrs) > 0 {
		b, _ := json.Marshal(r.Attrs)
		req.attrsJSON = string(b)
	}
	return req, nil
}

// clean checks a metadata string and redacts identity codes in place.
func (l *Log) clean(s *string) error {
	switch {
	case len(*s) > maxFieldLen:
		return errors.New("is too long")
	case !utf8.ValidString(*s):
		return errors.New("is not valid UTF-8")
	}
	for i := 0; i < len(*s); i++ {
		if (*s)[i] == 0 {
			return errors.New("contains a NUL byte")
		}
	}
	*s = redactWith(l.opts.HMACKey, *s)
	return nil
}

// contentHash returns the SHA-256 of data, or the given hash, checking
// that the two agree when both are present.
func contentHash(data, given []byte) (Hash, error) {
	if given != nil && len(given) != sha256.Size {
		return nil, errors.New("hash must be 32 bytes")
	}
	if data == nil {
		return Hash(given), nil
	}
	sum := sha256.Sum256(data)
	if given != nil && string(given) != string(sum[:]) {
		return nil, errors.New("hash does not match its content")
	}
	return sum[:], nil
}

// validName accepts lower-case names such as "ai.stream.start".
func validName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' && s[i-1] != '.') {
			return false
		}
	}
	return true
}

// run is the single writer: it takes whatever is queued (up to MaxBatch)
// and commits it as one transaction, so concurrent callers share commits.
func (l *Log) run() {
	defer close(l.stopped)
	batch := make([]*request, 0, l.opts.MaxBatch)
	for {
		select {
		case r := <-l.queue:
			batch = append(batch, r)
		case <-l.quit:
			for {
				select {
				case r := <-l.queue:
					batch = append(batch, r)
					if len(batch) == l.opts.MaxBatch {
						l.commit(batch)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						l.commit(batch)
					}
					return
				}
			}
		}
	fill:
		for len(batch) < l.opts.MaxBatch {
			select {
			case r := <-l.queue:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		l.commit(batch)
		clear(batch)
		batch = batch[:0]
	}
}

// plan is a batch with sequence numbers assigned, not yet committed.
type plan struct {
	reqs   []*request
	recs   []Record
	rng    *compact.Range
	tail   tailInfo
	levels []int16
	idxs   []int64
	hashes [][]byte
}

// checkpointLockKey is the advisory lock a replica holds while it signs
// a checkpoint, so replicas sharing one log sign one at a time and in
// order of tree size.
const checkpointLockKey int64 = 0x736f7465_636b7074 // "soteckpt"

// insertCheckpointExclusive stores c unless another replica holds the
// signing lock or a checkpoint of c's size or larger exists; it reports
// whether c was stored and the newest stored size.
func insertCheckpointExclusive(ctx context.Context, db *pgxpool.Pool, c Checkpoint) (bool, int64, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return false, 0, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var locked bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, checkpointLockKey).Scan(&locked); err != nil {
		return false, 0, err
	}
	if !locked {
		return false, 0, nil
	}
	var newest int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(size), 0) FROM audit_checkpoints`).Scan(&newest); err != nil {
		return false, 0, err
	}
	if newest >= c.Size {
		return false, newest, nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_checkpoints (origin, size, root, signed_at, key_id, signature)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.Origin, c.Size, []byte(c.Root), c.Time, c.KeyID, c.Signature); err != nil {
		return false, 0, err
	}
	return true, c.Size, tx.Commit(ctx)
}

// writerLockKey is the advisory lock every batch transaction takes, so
// that several gateway processes can share one log: the one that loses a
// race retries under the lock with freshly read state.
const writerLockKey int64 = 0x736f7465_61756469 // "soteaudi"

// commit writes one batch and answers every caller in it. The fast path
// is one pipelined round trip with the writer's cached tree state; if
// another process appended meanwhile (unique violation), the batch is
// planned again inside a transaction that holds the lock and re-reads the
// state.
func (l *Log) commit(batch []*request) {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.WriteTimeout)
	defer cancel()
	err := func() error {
		if l.dirty {
			if err := l.reload(ctx, l.Store.db); err != nil {
				return err
			}
		}
		var p *plan
		if p, batch = l.plan(batch); len(batch) == 0 {
			return nil
		}
		err := l.insert(ctx, l.Store.db, p, true)
		if err == nil {
			l.apply(p)
			return nil
		}
		l.dirty = true // whatever happened, the database is the truth
		if !isUniqueViolation(err) {
			return err
		}
		l.log.Info("audit log appended by another writer; retrying under the lock", "records", len(batch))
		return l.commitLocked(ctx, &batch)
	}()
	if err == nil {
		return
	}
	l.dirty = true
	l.log.Warn("audit batch failed", "records", len(batch), "err", pgdb.LogSafe(err))
	e := assist.E(assist.KindUnavailable, "audit.Append", "the audit log is unavailable", pgdb.LogSafe(err), 5)
	for _, r := range batch {
		r.done <- result{err: e}
	}
}

// commitLocked is the slow path: lock, re-read, plan, insert, commit.
func (l *Log) commitLocked(ctx context.Context, batch *[]*request) error {
	tx, err := l.Store.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, writerLockKey); err != nil {
		return err
	}
	if err := l.reload(ctx, tx); err != nil {
		return err
	}
	l.dirty = true // until committed
	var p *plan
	if p, *batch = l.plan(*batch); len(*batch) == 0 {
		return nil
	}
	if err := l.insert(ctx, tx, p, false); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	l.dirty = false
	l.apply(p)
	return nil
}

// reload reads the tree state from the database.
func (l *Log) reload(ctx context.Context, q querier) error {
	rng, t, err := treeFromStore(ctx, q)
	if err != nil {
		return err
	}
	root, err := rootOf(rng)
	if err != nil {
		return err
	}
	l.rng, l.tail, l.dirty = rng, t, false
	l.mu.Lock()
	l.committed.size, l.committed.root = t.size, root
	l.mu.Unlock()
	return nil
}

// plan assigns seq, time and chain hashes to the batch on a copy of the
// tree. Requests that cannot be recorded (RelatesTo in the future) are
// answered at once and dropped from the returned batch.
func (l *Log) plan(batch []*request) (*plan, []*request) {
	p := &plan{tail: l.tail, rng: cloneRange(l.rng)}
	now := l.opts.Clock().UTC().Truncate(time.Microsecond)
	if now.Before(p.tail.time) {
		now = p.tail.time // keep time monotonic in seq order
	}
	visit := func(id compact.NodeID, h []byte) {
		if storedNode(id) {
			p.levels = append(p.levels, int16(id.Level))
			p.idxs = append(p.idxs, int64(id.Index))
			p.hashes = append(p.hashes, h)
		}
	}
	kept := batch[:0]
	for _, r := range batch {
		if r.rec.RelatesTo > p.tail.size {
			r.done <- result{err: assist.E(assist.KindNotFound, "audit.Append", "the related audit record does not exist")}
			continue
		}
		rec := r.rec
		rec.Seq = p.tail.size + 1
		rec.Time = now
		rec.PrevHash = p.tail.leaf
		rec.LeafHash = l.leafHash(rec.Seq, now.UnixMicro(), r.body, rec.PrevHash)
		if err := p.rng.Append(rec.LeafHash, visit); err != nil {
			panic(err) // only fails for a malformed range, a programming error
		}
		p.tail = tailInfo{size: rec.Seq, leaf: rec.LeafHash, time: now}
		p.recs = append(p.recs, rec)
		kept = append(kept, r)
	}
	p.reqs = kept
	return p, kept
}

func cloneRange(r *compact.Range) *compact.Range {
	c, err := rangeFactory.NewRange(r.Begin(), r.End(), append([][]byte(nil), r.Hashes()...))
	if err != nil {
		panic(err)
	}
	return c
}

const insertRecordsSQL = `INSERT INTO audit_records (` + recordColumns + `)
SELECT seq, recorded_at, kind, request_id, actor_token_id, actor_name, actor_role, actor_org,
	task, patient, model, model_digest, host, template_id, template_version, input_sha256, output_sha256,
	sources::jsonb, latency_us, input_tokens, output_tokens, outcome, error_kind, relates_to, attrs::jsonb,
	content_stored, prev_hash, leaf_hash
FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
	$9::text[], $10::bytea[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::bytea[], $17::bytea[],
	$18::text[], $19::bigint[], $20::bigint[], $21::bigint[], $22::text[], $23::text[], $24::bigint[], $25::text[],
	$26::boolean[], $27::bytea[], $28::bytea[])
AS u(` + recordColumns + `)`

const insertNodesSQL = `INSERT INTO audit_nodes (level, idx, hash)
SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`

const insertContentSQL = `INSERT INTO audit_content (seq, key_id, input_ct, output_ct, expires_at)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::bytea[], $5::timestamptz[])`

// batchSender is a pool or a transaction.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// insert writes the batch in one pipelined round trip. The statements of
// a pgx batch sent outside a transaction run in one implicit transaction:
// all rows commit, or none. lock takes the writer lock first.
func (l *Log) insert(ctx context.Context, db batchSender, p *plan, lock bool) error {
	type rq = *request
	// One array per column, in the order of insertRecordsSQL.
	recordArgs := []any{
		column(p, func(r *Record, _ rq) int64 { return r.Seq }),
		column(p, func(r *Record, _ rq) time.Time { return r.Time }),
		column(p, func(r *Record, _ rq) string { return string(r.Kind) }),
		column(p, func(r *Record, _ rq) string { return r.RequestID }),
		column(p, func(r *Record, _ rq) string { return r.ActorTokenID }),
		column(p, func(r *Record, _ rq) string { return r.ActorName }),
		column(p, func(r *Record, _ rq) string { return string(r.ActorRole) }),
		column(p, func(r *Record, _ rq) string { return r.ActorOrg }),
		column(p, func(r *Record, _ rq) string { return string(r.Task) }),
		column(p, func(r *Record, _ rq) []byte { return r.Patient }),
		column(p, func(r *Record, _ rq) string { return r.Model }),
		column(p, func(r *Record, _ rq) string { return r.ModelDigest }),
		column(p, func(r *Record, _ rq) string { return r.Host }),
		column(p, func(r *Record, _ rq) string { return r.TemplateID }),
		column(p, func(r *Record, _ rq) string { return r.TemplateVersion }),
		column(p, func(r *Record, _ rq) []byte { return r.InputHash }),
		column(p, func(r *Record, _ rq) []byte { return r.OutputHash }),
		column(p, func(_ *Record, q rq) string { return q.sourcesJSON }),
		column(p, func(r *Record, _ rq) int64 { return r.LatencyMicros }),
		column(p, func(r *Record, _ rq) int64 { return r.InputTokens }),
		column(p, func(r *Record, _ rq) int64 { return r.OutputTokens }),
		column(p, func(r *Record, _ rq) string { return string(r.Outcome) }),
		column(p, func(r *Record, _ rq) string { return r.ErrorKind }),
		column(p, func(r *Record, _ rq) int64 { return r.RelatesTo }),
		column(p, func(_ *Record, q rq) string { return q.attrsJSON }),
		column(p, func(r *Record, _ rq) bool { return r.ContentStored }),
		column(p, func(r *Record, _ rq) []byte { return r.PrevHash }),
		column(p, func(r *Record, _ rq) []byte { return r.LeafHash }),
	}
	var cSeq []int64
	var cKey []string
	var cIn, cOut [][]byte
	var cExp []time.Time
	for i := range p.recs {
		if r, q := &p.recs[i], p.reqs[i]; r.ContentStored {
			cSeq, cKey, cExp = append(cSeq, r.Seq), append(cKey, l.sealer.keyID), append(cExp, q.expires)
			cIn, cOut = append(cIn, q.inputCT), append(cOut, q.outputCT)
		}
	}
	b := &pgx.Batch{}
	if lock {
		b.Queue(`SELECT pg_advisory_xact_lock($1)`, writerLockKey)
	}
	b.Queue(insertRecordsSQL, recordArgs...)
	if len(p.levels) > 0 {
		b.Queue(insertNodesSQL, p.levels, p.idxs, p.hashes)
	}
	if len(cSeq) > 0 {
		b.Queue(insertContentSQL, cSeq, cKey, cIn, cOut, cExp)
	}
	br := db.SendBatch(ctx, b)
	for range b.Len() {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return err
		}
	}
	return br.Close()
}

// column extracts one column of a plan for an unnest insert.
func column[T any](p *plan, f func(r *Record, q *request) T) []T {
	out := make([]T, len(p.recs))
	for i := range p.recs {
		out[i] = f(&p.recs[i], p.reqs[i])
	}
	return out
}

// apply makes a committed plan the writer's state and answers its callers.
func (l *Log) apply(p *plan) {
	l.rng, l.tail = p.rng, p.tail
	root, err := rootOf(p.rng)
	if err != nil {
		panic(err)
	}
	l.mu.Lock()
	l.committed.size, l.committed.root = p.tail.size, root
	l.mu.Unlock()
	for i, r := range p.reqs {
		rec := &p.recs[i]
		r.done <- result{rcpt: Receipt{Seq: rec.Seq, Time: rec.Time, LeafHash: rec.LeafHash}}
	}
}

// Close stops accepting records, commits what is queued, signs a final
// checkpoint when records were added, and stops the background jobs.
func (l *Log) Close() error {
	var err error
	l.once.Do(func() {
		close(l.bgQuit)
		l.bg.Wait()
		close(l.quit)
		<-l.stopped
		ctx, cancel := context.WithTimeout(context.Background(), l.opts.WriteTimeout)
		defer cancel()
		if _, cerr := l.checkpointIfGrown(ctx); cerr != nil {
			err = cerr
		}
	})
	return err
}

// Checkpoint signs and stores a checkpoint of the committed tree now, and
// returns it (the newest existing one if nothing was added since).
// Errors: not_found when the log is empty, unavailable.
func (l *Log) Checkpoint(ctx context.Context) (Checkpoint, error) {
	cp, err := l.checkpointIfGrown(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	if cp != nil {
		return *cp, nil
	}
	return l.LatestCheckpoint(ctx)
}

// checkpointIfGrown signs a checkpoint when the committed tree is larger
// than the newest checkpoint; nil when there is nothing new.
func (l *Log) checkpointIfGrown(ctx context.Context) (*Checkpoint, error) {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	l.mu.Lock()
	size, root := l.committed.size, l.committed.root
	l.mu.Unlock()
	if size == 0 || size <= l.cpSize {
		return nil, nil
	}
	cp := SignCheckpoint(l.opts.CheckpointKey, l.opts.Origin, size, root, l.opts.Clock())
	signed, newest, err := insertCheckpointExclusive(ctx, l.Store.db, cp)
	if err != nil {
		return nil, translate("audit.Checkpoint", err)
	}
	if !signed {
		// Another replica is signing now, or has signed this size or a
		// larger one: its checkpoint covers ours.
		l.cpSize = max(l.cpSize, newest)
		return nil, nil
	}
	l.cpSize = size
	l.log.Info("audit checkpoint signed", "size", size)
	return &cp, nil
}

// SignStoredCheckpoint computes the tree of the records stored now,
// signs it and stores the checkpoint: `assist audit checkpoint` uses it
// while a gateway may be writing. Errors: not_found (empty log),
// unavailable.
func SignStoredCheckpoint(ctx context.Context, db *pgxpool.Pool, key ed25519.PrivateKey, origin string, at time.Time) (Checkpoint, error) {
	const op = "audit.SignStoredCheckpoint"
	rng, t, err := treeFromStore(ctx, db)
	if err != nil {
		return Checkpoint{}, translate(op, err)
	}
	if t.size == 0 {
		return Checkpoint{}, assist.E(assist.KindNotFound, op, "the audit log is empty")
	}
	root, err := rootOf(rng)
	if err != nil {
		return Checkpoint{}, assist.E(assist.KindInternal, op, err)
	}
	cp := SignCheckpoint(key, origin, t.size, root, at)
	if err := insertCheckpoint(ctx, db, cp); err != nil {
		return Checkpoint{}, translate(op, err)
	}
	return cp, nil
}

// Query is Store.Query that also accepts a clear patient identifier
// (pseudonymised here) and, when results are newer than the latest
// checkpoint, signs a new one first so that every entry has a proof.
func (l *Log) Query(ctx context.Context, q Query) (Page, error) {
	if q.Patient != "" {
		q.PatientPseudonym, q.Patient = l.Pseudonym(q.Patient), ""
	}
	recs, next, err := l.Store.query(ctx, q)
	if err != nil {
		return Page{}, err
	}
	var maxSeq int64
	for _, r := range recs {
		maxSeq = max(maxSeq, r.Seq)
	}
	cp, err := l.LatestCheckpoint(ctx)
	if err != nil && assist.KindOf(err) != assist.KindNotFound {
		return Page{}, err
	}
	if maxSeq > cp.Size {
		if cp, err = l.Checkpoint(ctx); err != nil {
			return Page{}, err
		}
	}
	page := Page{Entries: make([]Entry, len(recs)), Checkpoint: cp, Next: next}
	for i := range recs {
		page.Entries[i].Record = recs[i]
	}
	if err := l.attachProofs(ctx, page.Entries, cp.Size); err != nil {
		return Page{}, err
	}
	return page, nil
}

// PurgeContent erases stored content whose retention has passed (by the
// database clock) and, when any was erased, records a content.purge
// event. Hashes stay in the records, so verification is unaffected.
func (l *Log) PurgeContent(ctx context.Context) (int64, error) {
	var n int64
	if err := l.Store.db.QueryRow(ctx, `SELECT audit_purge_content()`).Scan(&n); err != nil {
		return 0, translate("audit.PurgeContent", err)
	}
	if n > 0 {
		_, err := l.Append(ctx, Event{Kind: KindContentPurge, Outcome: OutcomeOK,
			Attrs: map[string]string{"purged_rows": fmt.Sprint(n)}})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Content decrypts the stored input and output of record seq. Errors:
// not_found (never stored, or erased after retention), invalid (no
// content key configured), internal (content does not match its hashes).
func (l *Log) Content(ctx context.Context, seq int64) (Content, error) {
	const op = "audit.Content"
	if l.sealer == nil {
		return Content{}, assist.E(assist.KindInvalid, op, "content storage is not configured")
	}
	rec, err := l.Record(ctx, seq)
	if err != nil {
		return Content{}, err
	}
	var keyID string
	var in, out []byte
	var exp time.Time
	err = l.Store.db.QueryRow(ctx, `SELECT key_id, input_ct, output_ct, expires_at FROM audit_content WHERE seq = $1`, seq).
		Scan(&keyID, &in, &out, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return Content{}, assist.E(assist.KindNotFound, op, "no content is stored for this record")
	}
	if err != nil {
		return Content{}, translate(op, err)
	}
	if keyID != l.sealer.keyID {
		return Content{}, assist.E(assist.KindInternal, op, errors.New("content was encrypted with another key"))
	}
	c := Content{Seq: seq, ExpiresAt: exp.UTC()}
	if in != nil {
		if c.Input, err = l.sealer.open("input", in, rec.InputHash); err != nil {
			return Content{}, assist.E(assist.KindInternal, op, err)
		}
	}
	if out != nil {
		if c.Output, err = l.sealer.open("output", out, rec.OutputHash); err != nil {
			return Content{}, assist.E(assist.KindInternal, op, err)
		}
	}
	return c, nil
}
