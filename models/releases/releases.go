package releases

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the releases schema.
var Migrations = pgdb.NewMigrationSet("releases", migrationFiles, "migrations")

// Status is a release's state.
type Status string

const (
	StatusCandidate Status = "candidate"
	StatusApproved  Status = "approved"
	StatusWithdrawn Status = "withdrawn"
)

// Release is one model release of a task.
type Release struct {
	ID         int64       `json:"id"`
	Task       assist.Task `json:"task"`
	Model      string      `json:"model"`
	Digest     string      `json:"digest"`
	Purpose    string      `json:"purpose,omitempty"`
	Status     Status      `json:"status"`
	RunID      string      `json:"run_id,omitempty"`
	ReportHash string      `json:"report_hash,omitempty"`
	DecidedBy  string      `json:"decided_by,omitempty"`
	Reason     string      `json:"reason,omitempty"`
	AuditSeq   int64       `json:"audit_seq,omitempty"`
	Created    time.Time   `json:"created"`
	Decided    *time.Time  `json:"decided,omitempty"`
}

// Store is the release registry on a pgx pool.
type Store struct{ pool *pgxpool.Pool }

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

const cols = `id, task, model, digest, purpose, status, run_id, report_hash, decided_by, reason, audit_seq, created_at, decided_at`

func scan(row pgx.Row) (Release, error) {
	var r Release
	var task, status string
	err := row.Scan(&r.ID, &task, &r.Model, &r.Digest, &r.Purpose, &status, &r.RunID, &r.ReportHash, &r.DecidedBy, &r.Reason,
		&r.AuditSeq, &r.Created, &r.Decided)
	r.Task, r.Status = assist.Task(task), Status(status)
	return r, err
}

// Propose records a candidate release of model@digest for task (no change
// when the release exists, whatever its status) and returns it.
func (s *Store) Propose(ctx context.Context, task assist.Task, model, digest, purpose string) (Release, error) {
	const op = "releases.Propose"
	if task == "" || model == "" || digest == "" {
		return Release{}, assist.E(assist.KindInvalid, op, "a release needs a task, a model name and a digest")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO releases.releases (task, model, digest, purpose, status)
		VALUES ($1, $2, $3, $4, 'candidate') ON CONFLICT (task, model, digest) DO NOTHING`, string(task), model, digest, purpose)
	if err != nil {
		return Release{}, pgdb.Translate(op, err)
	}
	r, err := scan(s.pool.QueryRow(ctx, `SELECT `+cols+` FROM releases.releases WHERE task = $1 AND model = $2 AND digest = $3`,
		string(task), model, digest))
	return r, pgdb.Translate(op, err)
}

// Get returns one release; NotFound when it does not exist.
func (s *Store) Get(ctx context.Context, id int64) (Release, error) {
	r, err := scan(s.pool.QueryRow(ctx, `SELECT `+cols+` FROM releases.releases WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Release{}, assist.E(assist.KindNotFound, "releases.Get", fmt.Sprintf("no model release %d", id))
	}
	return r, pgdb.Translate("releases.Get", err)
}

// List returns the releases of task ("" for all), newest first.
func (s *Store) List(ctx context.Context, task assist.Task) ([]Release, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+cols+` FROM releases.releases WHERE $1 = '' OR task = $1 ORDER BY task, id DESC`, string(task))
	if err != nil {
		return nil, pgdb.Translate("releases.List", err)
	}
	defer rows.Close()
	out := []Release{}
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, pgdb.Translate("releases.List", err)
		}
		out = append(out, r)
	}
	return out, pgdb.Translate("releases.List", rows.Err())
}

// Approved returns every approved release, one per task.
func (s *Store) Approved(ctx context.Context) (map[assist.Task]Release, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+cols+` FROM releases.releases WHERE status = 'approved'`)
	if err != nil {
		return nil, pgdb.Translate("releases.Approved", err)
	}
	defer rows.Close()
	out := map[assist.Task]Release{}
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, pgdb.Translate("releases.Approved", err)
		}
		out[r.Task] = r
	}
	return out, pgdb.Translate("releases.Approved", rows.Err())
}

// Decision is an approval or a withdrawal.
type Decision struct {
	By     string // who decided (credential id)
	Reason string // why; required
	// RunID and ReportHash are the evaluation run and the SHA-256 of its
	// report the approver read (approvals only).
	RunID, ReportHash string
}

func (d Decision) check(op string, approve bool) error {
	switch {
	case strings.TrimSpace(d.Reason) == "":
		return assist.E(assist.KindInvalid, op, "a reason is required")
	case len(d.Reason) > 2000:
		return assist.E(assist.KindInvalid, op, "the reason is longer than 2,000 characters")
	case d.By == "":
		return assist.E(assist.KindInvalid, op, "the decision needs its author")
	case approve && (d.RunID == "" || len(d.ReportHash) != 64):
		return assist.E(assist.KindInvalid, op, "an approval names the evaluation run and the SHA-256 of its report")
	}
	return nil
}

// Approve makes release id the approved release of its task, withdrawing
// the task's previously approved release (reason "superseded by release
// N"), in one transaction; record is called inside it with both releases
// (prev is nil when there was none) and returns the audit sequence number
// stored with the release, so an approval whose audit record cannot be
// written is not made. A withdrawn release cannot be approved again
// (Conflict): propose the digest again after a new evaluation.
func (s *Store) Approve(ctx context.Context, id int64, d Decision, record func(r Release, prev *Release) (int64, error)) (Release, error) {
	const op = "releases.Approve"
	if err := d.check(op, true); err != nil {
		return Release{}, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Release{}, pgdb.Translate(op, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	r, err := lockRelease(ctx, tx, op, id)
	if err != nil {
		return Release{}, err
	}
	switch r.Status {
	case StatusApproved:
		return Release{}, assist.E(assist.KindConflict, op, fmt.Sprintf("release %d is already approved", id))
	case StatusWithdrawn:
		return Release{}, assist.E(assist.KindConflict, op, fmt.Sprintf("release %d was withdrawn; it cannot be approved again", id))
	}
	var prev *Release
	p, err := scan(tx.QueryRow(ctx, `SELECT `+cols+` FROM releases.releases WHERE task = $1 AND status = 'approved' FOR UPDATE`, string(r.Task)))
	switch {
	case err == nil:
		prev = &p
		if _, err := tx.Exec(ctx, `UPDATE releases.releases SET status = 'withdrawn', decided_by = $2, reason = $3, decided_at = now()
			WHERE id = $1`, p.ID, d.By, fmt.Sprintf("superseded by release %d", r.ID)); err != nil {
			return Release{}, pgdb.Translate(op, err)
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return Release{}, pgdb.Translate(op, err)
	}
	r.Status, r.RunID, r.ReportHash, r.DecidedBy, r.Reason = StatusApproved, d.RunID, d.ReportHash, d.By, d.Reason
	seq, err := record(r, prev)
	if err != nil {
		return Release{}, err
	}
	r, err = scan(tx.QueryRow(ctx, `UPDATE releases.releases SET status = 'approved', run_id = $2, report_hash = $3, decided_by = $4,
		reason = $5, audit_seq = $6, decided_at = now() WHERE id = $1 RETURNING `+cols, id, d.RunID, d.ReportHash, d.By, d.Reason, seq))
	if err != nil {
		return Release{}, pgdb.Translate(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return Release{}, pgdb.Translate(op, err)
	}
	return r, nil
}

// lockRelease reads release id for update inside tx. Errors: not_found,
// unavailable.
func lockRelease(ctx context.Context, tx pgx.Tx, op string, id int64) (Release, error) {
	r, err := scan(tx.QueryRow(ctx, `SELECT `+cols+` FROM releases.releases WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Release{}, assist.E(assist.KindNotFound, op, fmt.Sprintf("no model release %d", id))
	}
	if err != nil {
		return Release{}, pgdb.Translate(op, err)
	}
	return r, nil
}

// Withdraw withdraws release id (approved or candidate); record is called
// inside the transaction as for Approve.
func (s *Store) Withdraw(ctx context.Context, id int64, d Decision, record func(r Release) (int64, error)) (Release, error) {
	const op = "releases.Withdraw"
	if err := d.check(op, false); err != nil {
		return Release{}, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Release{}, pgdb.Translate(op, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	r, err := lockRelease(ctx, tx, op, id)
	if err != nil {
		return Release{}, err
	}
	if r.Status == StatusWithdrawn {
		return Release{}, assist.E(assist.KindConflict, op, fmt.Sprintf("release %d is already withdrawn", id))
	}
	r.Status, r.DecidedBy, r.Reason = StatusWithdrawn, d.By, d.Reason
	seq, err := record(r)
	if err != nil {
		return Release{}, err
	}
	r, err = scan(tx.QueryRow(ctx, `UPDATE releases.releases SET status = 'withdrawn', decided_by = $2, reason = $3, audit_seq = $4,
		decided_at = now() WHERE id = $1 RETURNING `+cols, id, d.By, d.Reason, seq))
	if err != nil {
		return Release{}, pgdb.Translate(op, err)
	}
	return r, pgdb.Translate(op, tx.Commit(ctx))
}

// HostModel is what a host serves under a name.
type HostModel struct {
	Host, Model, Digest string
}

// Mismatch is a host that serves another digest under an approved
// release's model name: it must not serve that task.
type Mismatch struct {
	Task    assist.Task `json:"task"`
	Host    string      `json:"host"`
	Model   string      `json:"model"`
	Digest  string      `json:"digest"`  // what the host serves now
	Release string      `json:"release"` // the approved digest
}

// Mismatches lists, for every approved release, the hosts whose digest
// for its model differs from the approved one.
func Mismatches(approved map[assist.Task]Release, hosts []HostModel) []Mismatch {
	var out []Mismatch
	for _, task := range sortedTasks(approved) {
		r := approved[task]
		for _, h := range hosts {
			if h.Model == r.Model && h.Digest != r.Digest {
				out = append(out, Mismatch{Task: task, Host: h.Host, Model: h.Model, Digest: h.Digest, Release: r.Digest})
			}
		}
	}
	return out
}

func sortedTasks(m map[assist.Task]Release) []assist.Task {
	out := make([]assist.Task, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}
