package summary

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
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the draft and review tables.
var Migrations = pgdb.NewMigrationSet("summary", migrationFiles, "migrations")

// Store keeps drafts and reviews in PostgreSQL.
type Store struct{ db *pgxpool.Pool }

// NewStore returns a store over db (migrated with Migrations).
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

var _ Keeper = (*Store)(nil)

// SaveDraft stores d and the sources it cites; the author (actor in ctx)
// and their organisation are kept for access checks.
func (s *Store) SaveDraft(ctx context.Context, d *Draft, sources []Turn) (int64, error) {
	a, _ := assist.ActorFrom(ctx)
	body, err := json.Marshal(d)
	if err != nil {
		return 0, assist.E(assist.KindInternal, "summary.SaveDraft", err)
	}
	src, err := json.Marshal(sources)
	if err != nil {
		return 0, assist.E(assist.KindInternal, "summary.SaveDraft", err)
	}
	unsupported := 0
	for _, x := range d.Sentences() {
		if !x.Supported {
			unsupported++
		}
	}
	var id int64
	err = s.db.QueryRow(ctx, `INSERT INTO summary_drafts (kind, template_id, template_version, lang, model, model_digest,
		audit_seq, task_seq, actor_token_id, organisation, sentences, unsupported, draft, sources, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) RETURNING id`,
		d.Kind, d.TemplateID, d.TemplateVersion, d.Lang, d.Model.Name, d.Model.Digest, d.AuditSeq, d.TaskSeq,
		a.TokenID, a.Organisation, len(d.Sentences()), unsupported, body, src, d.Created).Scan(&id)
	if err != nil {
		return 0, pgdb.Translate("summary.SaveDraft", err)
	}
	return id, nil
}

// Stored is a kept draft with its sources and review.
type Stored struct {
	Draft   *Draft  `json:"draft"`
	Sources []Turn  `json:"sources"`
	Review  *Review `json:"review,omitempty"`
}

// Get returns draft id with its sources and review. A draft of another
// organisation looks the same as a missing one. Errors: not_found.
func (s *Store) Get(ctx context.Context, id int64) (*Stored, error) {
	a, _ := assist.ActorFrom(ctx)
	var body, src []byte
	err := s.db.QueryRow(ctx, `SELECT draft, sources FROM summary_drafts WHERE id = $1 AND organisation = $2`, id, a.Organisation).Scan(&body, &src)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, assist.E(assist.KindNotFound, "summary.Get", "no such draft")
	}
	if err != nil {
		return nil, pgdb.Translate("summary.Get", err)
	}
	st := &Stored{Draft: &Draft{}}
	if err := json.Unmarshal(body, st.Draft); err != nil {
		return nil, assist.E(assist.KindInternal, "summary.Get", err)
	}
	if err := json.Unmarshal(src, &st.Sources); err != nil {
		return nil, assist.E(assist.KindInternal, "summary.Get", err)
	}
	st.Draft.ID = id
	st.Draft.Template.ID, st.Draft.Template.Version = st.Draft.TemplateID, st.Draft.TemplateVersion
	var rv Review
	var created time.Time
	var edits []byte
	err = s.db.QueryRow(ctx, `SELECT id, outcome, reason, final_text, diff, edit_distance, draft_words, flags_total, flags_overridden, audit_seq, created_at, edits
		FROM summary_reviews WHERE draft_id = $1`, id).Scan(&rv.ID, &rv.Outcome, &rv.Reason, &rv.FinalText, &rv.Diff, &rv.EditDistance,
		&rv.DraftWords, &rv.FlagsTotal, &rv.FlagsOverridden, &rv.AuditSeq, &created, &edits)
	switch {
	case err == nil:
		rv.DraftID, rv.Created = id, created.UTC().Format(time.RFC3339)
		if err := json.Unmarshal(edits, &rv.Edits); err != nil {
			return nil, assist.E(assist.KindInternal, "summary.Get", err)
		}
		st.Review = &rv
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, pgdb.Translate("summary.Get", err)
	}
	return st, nil
}

// SaveReview stores a review. Errors: conflict when the draft was
// reviewed already.
func (s *Store) SaveReview(ctx context.Context, rv *Review) error {
	a, _ := assist.ActorFrom(ctx)
	edits, _ := json.Marshal(rv.Edits)
	if rv.Edits == nil {
		edits = []byte("[]")
	}
	err := s.db.QueryRow(ctx, `INSERT INTO summary_reviews (draft_id, outcome, reason, final_text, diff, edit_distance, draft_words,
		flags_total, flags_overridden, actor_token_id, audit_seq, edits) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id`,
		rv.DraftID, rv.Outcome, rv.Reason, rv.FinalText, rv.Diff, rv.EditDistance, rv.DraftWords, rv.FlagsTotal, rv.FlagsOverridden,
		a.TokenID, rv.AuditSeq, edits).Scan(&rv.ID)
	if err != nil {
		err = pgdb.Translate("summary.SaveReview", err)
		if assist.KindOf(err) == assist.KindConflict {
			return assist.E(assist.KindConflict, "summary.SaveReview", "this draft has been reviewed already", err)
		}
		return err
	}
	return nil
}

// Reviewed reports whether draft id has a review.
func (s *Store) Reviewed(ctx context.Context, id int64) (bool, error) {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM summary_reviews WHERE draft_id = $1`, id).Scan(&n); err != nil {
		return false, pgdb.Translate("summary.Reviewed", err)
	}
	return n > 0, nil
}

// QualityFilter selects reviews for follow-up.
type QualityFilter struct {
	From, To time.Time // zero: unbounded
	Template string
	Kind     string
}

// Quality is the follow-up of reviews: outcomes, how much clinicians
// edit, and how often they keep sentences the checker flagged.
type Quality struct {
	Reviews          int            `json:"reviews"`
	Outcomes         map[string]int `json:"outcomes"`
	MeanEditDistance float64        `json:"mean_edit_distance"`
	// EditRate is the edit distance per draft word over edited and
	// accepted drafts.
	EditRate        float64        `json:"edit_rate"`
	FlagsTotal      int            `json:"flags_total"`
	FlagsOverridden int            `json:"flags_overridden"`
	ByTemplate      map[string]int `json:"by_template"`
}

// Quality aggregates the reviews matching f (every organisation: for the
// quality group, no text is returned).
func (s *Store) Quality(ctx context.Context, f QualityFilter) (Quality, error) {
	q := Quality{Outcomes: map[string]int{}, ByTemplate: map[string]int{}}
	rows, err := s.db.Query(ctx, `SELECT r.outcome, r.edit_distance, r.draft_words, r.flags_total, r.flags_overridden, d.template_id
		FROM summary_reviews r JOIN summary_drafts d ON d.id = r.draft_id
		WHERE ($1::timestamptz IS NULL OR r.created_at >= $1) AND ($2::timestamptz IS NULL OR r.created_at < $2)
		  AND ($3 = '' OR d.template_id = $3) AND ($4 = '' OR d.kind = $4)`, nullTime(f.From), nullTime(f.To), f.Template, f.Kind)
	if err != nil {
		return q, pgdb.Translate("summary.Quality", err)
	}
	defer rows.Close()
	var dist, wordsN int
	for rows.Next() {
		var outcome, tmpl string
		var ed, dw, ft, fo int
		if err := rows.Scan(&outcome, &ed, &dw, &ft, &fo, &tmpl); err != nil {
			return q, pgdb.Translate("summary.Quality", err)
		}
		q.Reviews++
		q.Outcomes[outcome]++
		q.ByTemplate[tmpl]++
		q.FlagsTotal += ft
		q.FlagsOverridden += fo
		if outcome != OutcomeRejected {
			dist += ed
			wordsN += dw
		}
	}
	if err := rows.Err(); err != nil {
		return q, pgdb.Translate("summary.Quality", err)
	}
	if n := q.Reviews - q.Outcomes[OutcomeRejected]; n > 0 {
		q.MeanEditDistance = float64(dist) / float64(n)
	}
	if wordsN > 0 {
		q.EditRate = float64(dist) / float64(wordsN)
	}
	return q, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
