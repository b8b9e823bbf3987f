package audit

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the audit tables, their append-only triggers and the
// content purge function. Run them as the owning (admin) role; the gateway
// itself should connect as a role set up with GrantAppRole.
var Migrations = pgdb.NewMigrationSet("audit", migrationFiles, "migrations")

// querier is what reads need; *pgxpool.Pool and pgx.Tx both have it.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var (
	_ querier = (*pgxpool.Pool)(nil)
	_ querier = (pgx.Tx)(nil)
)

// Store reads the audit log: records, checkpoints and proofs. It needs no
// keys; Log embeds one and adds writing.
type Store struct {
	db *pgxpool.Pool
}

// NewStore returns a reader over a database migrated with Migrations.
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

const recordColumns = `seq, recorded_at, kind, request_id, actor_token_id, actor_name, actor_role, actor_org,
	task, patient, model, model_digest, host, template_id, template_version, input_sha256, output_sha256,
	sources, latency_us, input_tokens, output_tokens, outcome, error_kind, relates_to, attrs,
	content_stored, prev_hash, leaf_hash`

// recordSelect reads recordColumns; the JSON columns are scanned as raw
// bytes for the fast decoder.
const recordSelect = recordColumns

// scanRecord reads one row selected with recordSelect.
func scanRecord(row pgx.Row, r *Record) error {
	var kind, role, task, outcome string
	var patient, in, out, prev, leaf, sources, attrs []byte
	err := row.Scan(&r.Seq, &r.Time, &kind, &r.RequestID, &r.ActorTokenID, &r.ActorName, &role, &r.ActorOrg,
		&task, &patient, &r.Model, &r.ModelDigest, &r.Host, &r.TemplateID, &r.TemplateVersion, &in, &out,
		&sources, &r.LatencyMicros, &r.InputTokens, &r.OutputTokens, &outcome, &r.ErrorKind, &r.RelatesTo, &attrs,
		&r.ContentStored, &prev, &leaf)
	if err != nil {
		return err
	}
	if r.Sources, err = decodeStrings(sources); err != nil {
		return err
	}
	if r.Attrs, err = decodeStringMap(attrs); err != nil {
		return err
	}
	r.Time = r.Time.UTC()
	r.Kind, r.ActorRole, r.Task, r.Outcome = EventKind(kind), assist.Role(role), assist.Task(task), Outcome(outcome)
	r.Patient, r.InputHash, r.OutputHash, r.PrevHash, r.LeafHash = patient, in, out, prev, leaf
	if len(r.Sources) == 0 {
		r.Sources = nil
	}
	if len(r.Attrs) == 0 {
		r.Attrs = nil
	}
	return nil
}

// Size returns the number of records (the last seq).
func (s *Store) Size(ctx context.Context) (int64, error) {
	t, err := readTail(ctx, s.db)
	if err != nil {
		return 0, translate("audit.Size", err)
	}
	return t.size, nil
}

// tailInfo is the end of the log: its size (last seq), the last leaf hash
// and the last record's time.
type tailInfo struct {
	size int64
	leaf Hash
	time time.Time
}

// readTail returns the end of the log (size 0 and the zero hash when empty).
func readTail(ctx context.Context, q querier) (tailInfo, error) {
	var t tailInfo
	var leaf []byte
	err := q.QueryRow(ctx, `SELECT seq, leaf_hash, recorded_at FROM audit_records ORDER BY seq DESC LIMIT 1`).Scan(&t.size, &leaf, &t.time)
	if errors.Is(err, pgx.ErrNoRows) {
		return tailInfo{leaf: zeroHash}, nil
	}
	t.leaf = leaf
	return t, err
}

// Record returns the record seq. Errors: not_found, unavailable.
func (s *Store) Record(ctx context.Context, seq int64) (Record, error) {
	var r Record
	err := scanRecord(s.db.QueryRow(ctx, `SELECT `+recordSelect+` FROM audit_records WHERE seq = $1`, seq), &r)
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, assist.E(assist.KindNotFound, "audit.Record", "no such audit record")
	}
	if err != nil {
		return Record{}, translate("audit.Record", err)
	}
	return r, nil
}

// Scan calls fn for the records with from <= seq <= to (to <= 0: to the
// end), in seq order, reading in one snapshot. fn may keep r.
func (s *Store) Scan(ctx context.Context, from, to int64, fn func(r *Record) error) error {
	return scanRecords(ctx, s.db, from, to, fn)
}

func scanRecords(ctx context.Context, q querier, from, to int64, fn func(r *Record) error) error {
	if to <= 0 {
		to = 1<<63 - 1
	}
	rows, err := q.Query(ctx, `SELECT `+recordSelect+` FROM audit_records WHERE seq BETWEEN $1 AND $2 ORDER BY seq`, from, to)
	if err != nil {
		return translate("audit.Scan", err)
	}
	defer rows.Close()
	format := formatOf(rows)
	in := interner{}
	for rows.Next() {
		r := new(Record)
		if format.ok {
			err = decodeRow(rows.RawValues(), format, r, in)
		} else {
			err = scanRecord(rows, r)
		}
		if err != nil {
			return translate("audit.Scan", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return translate("audit.Scan", err)
	}
	return nil
}

// LatestCheckpoint returns the checkpoint of the largest tree. Errors:
// not_found when none has been signed yet, unavailable.
func (s *Store) LatestCheckpoint(ctx context.Context) (Checkpoint, error) {
	cps, err := checkpoints(ctx, s.db, `ORDER BY size DESC, id DESC LIMIT 1`)
	if err != nil {
		return Checkpoint{}, translate("audit.LatestCheckpoint", err)
	}
	if len(cps) == 0 {
		return Checkpoint{}, assist.E(assist.KindNotFound, "audit.LatestCheckpoint", "no checkpoint has been signed yet")
	}
	return cps[0], nil
}

// Checkpoints returns every stored checkpoint, smallest tree first.
func (s *Store) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	cps, err := checkpoints(ctx, s.db, `ORDER BY size, id`)
	if err != nil {
		return nil, translate("audit.Checkpoints", err)
	}
	return cps, nil
}

func checkpoints(ctx context.Context, q querier, tailSQL string) ([]Checkpoint, error) {
	rows, err := q.Query(ctx, `SELECT origin, size, root, signed_at, key_id, signature FROM audit_checkpoints `+tailSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		var root []byte
		if err := rows.Scan(&c.Origin, &c.Size, &root, &c.Time, &c.KeyID, &c.Signature); err != nil {
			return nil, err
		}
		c.Root, c.Time = root, c.Time.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

func insertCheckpoint(ctx context.Context, db *pgxpool.Pool, c Checkpoint) error {
	_, err := db.Exec(ctx, `INSERT INTO audit_checkpoints (origin, size, root, signed_at, key_id, signature)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.Origin, c.Size, []byte(c.Root), c.Time, c.KeyID, c.Signature)
	return err
}

// InclusionProof proves record seq is in the tree of treeSize records.
// Errors: invalid (seq outside the tree), unavailable.
func (s *Store) InclusionProof(ctx context.Context, seq, treeSize int64) (InclusionProof, error) {
	if seq < 1 || seq > treeSize {
		return InclusionProof{}, assist.Errorf(assist.KindInvalid, "seq %d is outside the tree of size %d", seq, treeSize)
	}
	p, err := inclusionFromStore(ctx, dbHashes{s.db}, seq, treeSize)
	if err != nil {
		return InclusionProof{}, translate("audit.InclusionProof", err)
	}
	return p, nil
}

// ConsistencyProof proves the tree of size from is a prefix of the tree
// of size to. Errors: invalid (bad sizes), unavailable.
func (s *Store) ConsistencyProof(ctx context.Context, from, to int64) (ConsistencyProof, error) {
	n, err := s.Size(ctx)
	if err != nil {
		return ConsistencyProof{}, err
	}
	if from < 0 || from > to || to > n {
		return ConsistencyProof{}, assist.Errorf(assist.KindInvalid, "consistency needs 0 <= from <= to <= %d", n)
	}
	p, err := consistencyFromStore(ctx, dbHashes{s.db}, from, to)
	if err != nil {
		return ConsistencyProof{}, translate("audit.ConsistencyProof", err)
	}
	return p, nil
}

// treeFromStore rebuilds the compact range and reads the tail. Stored
// nodes never change, so no snapshot is needed: every node below a
// visible record is visible too (they commit together).
func treeFromStore(ctx context.Context, q querier) (*compact.Range, tailInfo, error) {
	t, err := readTail(ctx, q)
	if err != nil {
		return nil, t, err
	}
	rng, err := rangeFromStore(ctx, dbHashes{q}, uint64(t.size))
	if err != nil {
		return nil, t, err
	}
	return rng, t, nil
}

// rootOf returns the root hash of a compact range starting at 0.
func rootOf(rng *compact.Range) (Hash, error) {
	if rng.End() == 0 {
		return EmptyRoot(), nil
	}
	return rng.GetRootHash(nil)
}

// dbHashes reads stored hashes from the database.
type dbHashes struct{ q querier }

func (d dbHashes) leafHashes(ctx context.Context, idx []uint64) (map[uint64][]byte, error) {
	out := make(map[uint64][]byte, len(idx))
	if len(idx) == 0 {
		return out, nil
	}
	seqs := make([]int64, len(idx))
	for i, x := range idx {
		seqs[i] = int64(x) + 1
	}
	rows, err := d.q.Query(ctx, `SELECT seq, leaf_hash FROM audit_records WHERE seq = ANY($1)`, seqs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var h []byte
		if err := rows.Scan(&seq, &h); err != nil {
			return nil, err
		}
		out[uint64(seq-1)] = h
	}
	return out, rows.Err()
}

func (d dbHashes) nodeHashes(ctx context.Context, ids []compact.NodeID) (map[compact.NodeID][]byte, error) {
	out := make(map[compact.NodeID][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	levels := make([]int16, len(ids))
	idxs := make([]int64, len(ids))
	for i, id := range ids {
		levels[i], idxs[i] = int16(id.Level), int64(id.Index)
	}
	rows, err := d.q.Query(ctx, `SELECT n.level, n.idx, n.hash FROM audit_nodes n
		JOIN unnest($1::smallint[], $2::bigint[]) AS u(level, idx) ON n.level = u.level AND n.idx = u.idx`, levels, idxs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var level int16
		var idx int64
		var h []byte
		if err := rows.Scan(&level, &idx, &h); err != nil {
			return nil, err
		}
		out[compact.NewNodeID(uint(level), uint64(idx))] = h
	}
	return out, rows.Err()
}

// Query selects records for review. Zero fields do not filter.
type Query struct {
	From, To     time.Time // recorded_at in [From, To)
	Kind         EventKind
	ActorTokenID string
	Organisation string
	Task         assist.Task
	Model        string
	Outcome      Outcome
	RelatesTo    int64
	// Patient is a clear identifier; only Log.Query accepts it (it holds
	// the key) and turns it into PatientPseudonym.
	Patient          string
	PatientPseudonym Hash
	// Cursor continues a previous page (Page.Next); Limit defaults to 50
	// and is at most 500. Newest first unless Ascending.
	Cursor    string
	Limit     int
	Ascending bool
}

// Entry is a record with its inclusion proof against Page.Checkpoint. The
// proof is nil only for records newer than the checkpoint.
type Entry struct {
	Record Record          `json:"record"`
	Proof  *InclusionProof `json:"proof,omitempty"`
}

// Page is one page of query results.
type Page struct {
	Entries    []Entry    `json:"entries"`
	Checkpoint Checkpoint `json:"checkpoint"`
	Next       string     `json:"next,omitempty"` // cursor of the next page; "" at the end
}

// MaxQueryLimit bounds Query.Limit.
const MaxQueryLimit = 500

// Query returns one page of matching records, each with its inclusion
// proof against the latest checkpoint. Errors: invalid (bad cursor, or a
// clear Patient given to a Store), unavailable.
func (s *Store) Query(ctx context.Context, q Query) (Page, error) {
	if q.Patient != "" {
		return Page{}, assist.E(assist.KindInternal, "audit.Store.Query", errors.New("a clear patient identifier needs Log.Query"))
	}
	recs, next, err := s.query(ctx, q)
	if err != nil {
		return Page{}, err
	}
	page := Page{Entries: make([]Entry, len(recs)), Next: next}
	cp, err := s.LatestCheckpoint(ctx)
	if err != nil && assist.KindOf(err) != assist.KindNotFound {
		return Page{}, err
	}
	page.Checkpoint = cp
	for i := range recs {
		page.Entries[i].Record = recs[i]
	}
	if err := s.attachProofs(ctx, page.Entries, cp.Size); err != nil {
		return Page{}, err
	}
	return page, nil
}

// attachProofs adds inclusion proofs against a tree of size to entries,
// reading the nodes of all proofs in one round of queries.
func (s *Store) attachProofs(ctx context.Context, entries []Entry, size int64) error {
	type want struct {
		entry  int
		nodes  proof.Nodes
		lo, hi int
	}
	var wants []want
	var ids []compact.NodeID
	for i := range entries {
		seq := entries[i].Record.Seq
		if seq < 1 || seq > size {
			continue
		}
		n, err := proof.Inclusion(uint64(seq-1), uint64(size))
		if err != nil {
			return assist.E(assist.KindInternal, "audit.attachProofs", err)
		}
		wants = append(wants, want{entry: i, nodes: n, lo: len(ids), hi: len(ids) + len(n.IDs)})
		ids = append(ids, n.IDs...)
	}
	if len(wants) == 0 {
		return nil
	}
	hs, err := computeNodes(ctx, dbHashes{s.db}, ids)
	if err != nil {
		return translate("audit.attachProofs", err)
	}
	for _, w := range wants {
		p, err := w.nodes.Rehash(append([][]byte(nil), hs[w.lo:w.hi]...), hasher.HashChildren)
		if err != nil {
			return assist.E(assist.KindInternal, "audit.attachProofs", err)
		}
		entries[w.entry].Proof = &InclusionProof{Seq: entries[w.entry].Record.Seq, TreeSize: size, Hashes: toHashes(p)}
	}
	return nil
}

func (s *Store) query(ctx context.Context, q Query) ([]Record, string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > MaxQueryLimit {
		limit = MaxQueryLimit
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if !q.From.IsZero() {
		add("recorded_at >= ?", q.From)
	}
	if !q.To.IsZero() {
		add("recorded_at < ?", q.To)
	}
	if q.Kind != "" {
		add("kind = ?", string(q.Kind))
	}
	if q.ActorTokenID != "" {
		add("actor_token_id = ?", q.ActorTokenID)
	}
	if q.Organisation != "" {
		add("actor_org = ?", q.Organisation)
	}
	if q.Task != "" {
		add("task = ?", string(q.Task))
	}
	if q.Model != "" {
		add("model = ?", q.Model)
	}
	if q.Outcome != "" {
		add("outcome = ?", string(q.Outcome))
	}
	if q.RelatesTo != 0 {
		add("relates_to = ?", q.RelatesTo)
	}
	if len(q.PatientPseudonym) > 0 {
		add("patient = ?", []byte(q.PatientPseudonym))
	}
	order := "DESC"
	cmp := "seq < ?"
	if q.Ascending {
		order, cmp = "ASC", "seq > ?"
	}
	if q.Cursor != "" {
		c, err := strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil || c < 0 {
			return nil, "", assist.Errorf(assist.KindInvalid, "the cursor is not valid")
		}
		add(cmp, c)
	}
	sql := `SELECT ` + recordSelect + ` FROM audit_records`
	if len(where) > 0 {
		sql += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit+1)
	sql += fmt.Sprintf(` ORDER BY seq %s LIMIT $%d`, order, len(args))
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, "", translate("audit.Query", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		if err := scanRecord(rows, &r); err != nil {
			return nil, "", translate("audit.Query", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", translate("audit.Query", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(out[limit-1].Seq, 10)
	}
	return out, next, nil
}

// translate maps a database error for a read; see pgdb.Translate.
func translate(op string, err error) error { return pgdb.Translate(op, err) }

// isUniqueViolation reports a unique_violation (23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
