package pgstore

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/evals/runner"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the evals schema.
var Migrations = pgdb.NewMigrationSet("evals", migrationFiles, "migrations")

// Store implements runner.Store on a pgx pool.
type Store struct{ pool *pgxpool.Pool }

var _ runner.Store = (*Store)(nil)

// New returns a Store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

const runCols = `id, suite, suite_hash, task, qualifies, model, model_digest, dataset_hash, code_version, cases, status,
	definition, summary, created_by, created_at, finished_at`

// CreateRun stores a new run.
func (s *Store) CreateRun(ctx context.Context, r runner.Run) error {
	def, err := json.Marshal(r.Definition)
	if err != nil {
		return assist.E("pgstore.CreateRun", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO evals.runs (`+runCols+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,NULL,$13,$14,NULL)`,
		r.ID, r.Suite, r.SuiteHash, r.Task, string(r.Qualifies), r.Model.Name, r.Model.Digest, r.DatasetHash, r.CodeVersion,
		r.Cases, r.Status, def, r.CreatedBy, r.Created)
	return pgdb.Translate("pgstore.CreateRun", err)
}

func scanRun(row pgx.Row) (runner.Run, error) {
	var (
		r         runner.Run
		qualifies string
		def, sum  []byte
	)
	err := row.Scan(&r.ID, &r.Suite, &r.SuiteHash, &r.Task, &qualifies, &r.Model.Name, &r.Model.Digest, &r.DatasetHash,
		&r.CodeVersion, &r.Cases, &r.Status, &def, &sum, &r.CreatedBy, &r.Created, &r.Finished)
	if err != nil {
		return runner.Run{}, err
	}
	r.Qualifies = assist.Task(qualifies)
	if err := json.Unmarshal(def, &r.Definition); err != nil {
		return runner.Run{}, err
	}
	if sum != nil {
		if err := json.Unmarshal(sum, &r.Summary); err != nil {
			return runner.Run{}, err
		}
	}
	return r, nil
}

func notFound(op string, err error, msg string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return assist.E(assist.KindNotFound, op, msg)
	}
	return pgdb.Translate(op, err)
}

// GetRun returns one run.
func (s *Store) GetRun(ctx context.Context, id string) (runner.Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runCols+` FROM evals.runs WHERE id = $1`, id))
	if err != nil {
		return runner.Run{}, notFound("pgstore.GetRun", err, "no evaluation run "+id)
	}
	return r, nil
}

// FindUnfinished returns the newest running run of a suite, dataset and model.
func (s *Store) FindUnfinished(ctx context.Context, suiteHash, datasetHash, model string) (runner.Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runCols+` FROM evals.runs
		WHERE status = 'running' AND suite_hash = $1 AND dataset_hash = $2 AND model = $3
		ORDER BY created_at DESC LIMIT 1`, suiteHash, datasetHash, model))
	if err != nil {
		return runner.Run{}, notFound("pgstore.FindUnfinished", err, "no unfinished run")
	}
	return r, nil
}

// ListRuns returns the newest runs first.
func (s *Store) ListRuns(ctx context.Context, limit int) ([]runner.Run, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+runCols+` FROM evals.runs ORDER BY created_at DESC, id LIMIT $1`, limit)
	if err != nil {
		return nil, pgdb.Translate("pgstore.ListRuns", err)
	}
	defer rows.Close()
	var out []runner.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, pgdb.Translate("pgstore.ListRuns", err)
		}
		out = append(out, r)
	}
	return out, pgdb.Translate("pgstore.ListRuns", rows.Err())
}

// Results returns a run's results ordered by case id.
func (s *Store) Results(ctx context.Context, runID string) ([]runner.Result, error) {
	rows, err := s.pool.Query(ctx, `SELECT run_id, case_id, category, input, expected, output, scores, error, host,
		model_digest, latency_us, prompt_tokens, output_tokens, audit_seq FROM evals.results WHERE run_id = $1 ORDER BY case_id`, runID)
	if err != nil {
		return nil, pgdb.Translate("pgstore.Results", err)
	}
	defer rows.Close()
	var out []runner.Result
	for rows.Next() {
		var (
			r      runner.Result
			scores []byte
			us     int64
		)
		if err := rows.Scan(&r.RunID, &r.CaseID, &r.Category, &r.Input, &r.Expected, &r.Output, &scores, &r.Error, &r.Host,
			&r.ModelDigest, &us, &r.PromptTokens, &r.OutputTokens, &r.AuditSeq); err != nil {
			return nil, pgdb.Translate("pgstore.Results", err)
		}
		if err := json.Unmarshal(scores, &r.Scores); err != nil {
			return nil, assist.E("pgstore.Results", err)
		}
		r.Latency = time.Duration(us) * time.Microsecond
		out = append(out, r)
	}
	return out, pgdb.Translate("pgstore.Results", rows.Err())
}

// SaveResult stores one result (replacing an earlier failed attempt) in
// its own transaction, with synchronous_commit off for that transaction
// only: a result is work that can be redone, so a database crash may lose
// the last few hundred milliseconds of results (a resumed run redoes
// them) but never corrupts them, and a case does not wait for a disk
// flush. The model calls' audit records stay durable (the audit log).
func (s *Store) SaveResult(ctx context.Context, r runner.Result) error {
	const op = "pgstore.SaveResult"
	scores, err := json.Marshal(r.Scores)
	if err != nil {
		return assist.E(op, err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO evals.results (run_id, case_id, category, input, expected, output, scores, error,
		host, model_digest, latency_us, prompt_tokens, output_tokens, audit_seq)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
		ON CONFLICT (run_id, case_id) DO UPDATE SET category = EXCLUDED.category, input = EXCLUDED.input,
		expected = EXCLUDED.expected, output = EXCLUDED.output, scores = EXCLUDED.scores, error = EXCLUDED.error,
		host = EXCLUDED.host, model_digest = EXCLUDED.model_digest, latency_us = EXCLUDED.latency_us,
		prompt_tokens = EXCLUDED.prompt_tokens, output_tokens = EXCLUDED.output_tokens, audit_seq = EXCLUDED.audit_seq,
		stored_at = now()`,
			r.RunID, r.CaseID, r.Category, r.Input, r.Expected, r.Output, scores, r.Error, r.Host, r.ModelDigest,
			r.Latency.Microseconds(), r.PromptTokens, r.OutputTokens, r.AuditSeq)
		return err
	})
	return pgdb.Translate(op, err)
}

// FinishRun sets a run's final status and summary.
func (s *Store) FinishRun(ctx context.Context, id, status string, sum *runner.Summary, at time.Time) error {
	var js []byte
	if sum != nil {
		var err error
		if js, err = json.Marshal(sum); err != nil {
			return assist.E("pgstore.FinishRun", err)
		}
	}
	tag, err := s.pool.Exec(ctx, `UPDATE evals.runs SET status = $2, summary = $3, finished_at = $4 WHERE id = $1`, id, status, js, at)
	if err != nil {
		return pgdb.Translate("pgstore.FinishRun", err)
	}
	if tag.RowsAffected() == 0 {
		return assist.E(assist.KindNotFound, "pgstore.FinishRun", "no evaluation run "+id)
	}
	return nil
}
