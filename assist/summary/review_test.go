package summary

import (
	"context"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

func reviewDraft() *Draft {
	return &Draft{ID: 7, Kind: KindVisit, TemplateID: "soap", TemplateVersion: "1.0.0", Sections: []DraftSection{
		{Key: "subjective", Title: "Subjective", Sentences: []Sentence{
			{ID: "s1", Text: "Headache for three days.", Cites: []string{"t2"}, Supported: true},
			{ID: "s2", Text: "Chest pain.", Cites: []string{"t4"}, Flags: []Flag{{Type: "negation"}}},
		}},
		{Key: "plan", Title: "Plan", Sentences: []Sentence{
			{ID: "s3", Text: "Ibuprofen 800 mg.", Cites: []string{"t5"}, Flags: []Flag{{Type: "dose"}}},
		}},
	}}
}

func TestAssess(t *testing.T) {
	tests := []struct {
		name                 string
		r                    ReviewRequest
		dist, total, overrid int
		final, diff, err     string
	}{
		{name: "accepted", r: ReviewRequest{Outcome: "accepted"}, total: 2, overrid: 2,
			final: "Subjective\nHeadache for three days. Chest pain.\n\nPlan\nIbuprofen 800 mg."},
		{name: "edited in place", r: ReviewRequest{Outcome: "edited", Sentences: []SentenceEdit{{ID: "s2", Text: "Denies chest pain."}, {ID: "s3", Text: ""}}},
			dist: 6, total: 2, overrid: 0, final: "Subjective\nHeadache for three days. Denies chest pain.",
			diff: "+Headache for three days. Denies chest pain.\n-Headache for three days. Chest pain.\n-\n-Plan\n-Ibuprofen 800 mg.\n"},
		{name: "edited, flag kept", r: ReviewRequest{Outcome: "edited", Sentences: []SentenceEdit{{ID: "s2", Text: "Denies chest pain."}}},
			dist: 2, total: 2, overrid: 1},
		{name: "final text", r: ReviewRequest{Outcome: "edited", FinalText: "Headache for three days. Ibuprofen 800 mg."}, dist: 4, total: 2, overrid: 1},
		{name: "rejected", r: ReviewRequest{Outcome: "rejected", Reason: "wrong patient"}, total: 2},
		{name: "rejected without reason", r: ReviewRequest{Outcome: "rejected"}, err: "reason"},
		{name: "unknown sentence", r: ReviewRequest{Outcome: "edited", Sentences: []SentenceEdit{{ID: "s9", Text: "x"}}}, err: `"s9"`},
		{name: "edited without edits", r: ReviewRequest{Outcome: "edited"}, err: "needs"},
		{name: "accepted with edits", r: ReviewRequest{Outcome: "accepted", FinalText: "x"}, err: "edited"},
		{name: "unknown outcome", r: ReviewRequest{Outcome: "signed"}, err: "unknown outcome"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rv, err := Assess(reviewDraft(), tt.r)
			if tt.err != "" {
				if assist.KindOf(err) != assist.KindInvalid || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rv.EditDistance != tt.dist || rv.FlagsTotal != tt.total || rv.FlagsOverridden != tt.overrid {
				t.Errorf("distance %d flags %d overridden %d", rv.EditDistance, rv.FlagsTotal, rv.FlagsOverridden)
			}
			if tt.final != "" && rv.FinalText != tt.final {
				t.Errorf("final %q", rv.FinalText)
			}
			if tt.diff != "" && !strings.Contains(rv.Diff, tt.diff) {
				t.Errorf("diff %q", rv.Diff)
			}
		})
	}
}

// TestStoreReview keeps a draft in the real PostgreSQL, reviews it once
// (a second review conflicts), hides it from another organisation and
// aggregates the quality follow-up.
func TestStoreReview(t *testing.T) {
	db, _ := pgtest.NewPool(t, Migrations)
	st := NewStore(db)
	f := &fakeModels{}
	s := &Service{Models: f, Templates: DefaultTemplates(), Store: st}
	ctx := assist.WithActor(context.Background(), assist.Actor{TokenID: "tok1", Organisation: "county A"})
	d, err := s.Draft(ctx, &Request{Turns: visit(), Template: "soap", Lang: "en"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == 0 {
		t.Fatal("draft not stored")
	}
	got, err := st.Get(ctx, d.ID)
	if err != nil || got.Draft.Text() != d.Text() || len(got.Sources) != len(visit()) || got.Review != nil {
		t.Fatalf("Get: %+v %v", got, err)
	}
	other := assist.WithActor(context.Background(), assist.Actor{TokenID: "tok2", Organisation: "county B"})
	if _, err := st.Get(other, d.ID); assist.KindOf(err) != assist.KindNotFound {
		t.Errorf("another organisation: %v", err)
	}
	if _, err := s.Review(ctx, d.ID, ReviewRequest{Outcome: "edited", Sentences: []SentenceEdit{{ID: "s1", Text: "Changed."}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Review(ctx, d.ID, ReviewRequest{Outcome: "accepted"}); assist.KindOf(err) != assist.KindConflict {
		t.Errorf("second review: %v", err)
	}
	if _, err := s.Review(ctx, 99999, ReviewRequest{Outcome: "accepted"}); assist.KindOf(err) != assist.KindNotFound {
		t.Errorf("missing draft: %v", err)
	}
	last := f.entries[len(f.entries)-1]
	if last.Kind != audit.KindReview || last.RelatesTo != d.AuditSeq || last.Outcome != audit.OutcomeEdited {
		t.Errorf("review record %+v", last.Event)
	}
	q, err := st.Quality(context.Background(), QualityFilter{Template: "soap"})
	if err != nil {
		t.Fatal(err)
	}
	if q.Reviews != 1 || q.Outcomes["edited"] != 1 || q.MeanEditDistance == 0 || q.FlagsTotal != 4 || q.FlagsOverridden != 3 {
		t.Errorf("quality %+v", q)
	}
	got, _ = st.Get(ctx, d.ID)
	if got.Review == nil || got.Review.Outcome != "edited" || !strings.Contains(got.Review.Diff, "+") ||
		len(got.Review.Edits) != 1 || got.Review.Edits[0] != (SentenceEdit{ID: "s1", Text: "Changed."}) {
		t.Errorf("stored review %+v", got.Review)
	}
}
