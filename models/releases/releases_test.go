package releases_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/models/releases"
)

func TestReleaseLifecycle(t *testing.T) {
	pool, _ := pgtest.NewPool(t, releases.Migrations)
	st := releases.NewStore(pool)
	ctx := context.Background()
	hash := strings.Repeat("ab", 32)
	a, err := st.Propose(ctx, assist.TaskInterpret, "m:latest", "sha256:1", "interpretation fi-so")
	if err != nil || a.Status != releases.StatusCandidate {
		t.Fatalf("propose: %+v %v", a, err)
	}
	if again, err := st.Propose(ctx, assist.TaskInterpret, "m:latest", "sha256:1", ""); err != nil || again.ID != a.ID {
		t.Errorf("proposing the same release again: %+v %v", again, err)
	}
	if _, err := st.Propose(ctx, "", "m", "d", ""); assist.KindOf(err) != assist.KindInvalid {
		t.Errorf("release without task: %v", err)
	}
	d := releases.Decision{By: "tok-1", Reason: "passed", RunID: "run-000000000001", ReportHash: hash}
	var recorded []string
	rec := func(r releases.Release, prev *releases.Release) (int64, error) {
		s := string(r.Status) + ":" + r.Digest
		if prev != nil {
			s += " supersedes " + prev.Digest
		}
		recorded = append(recorded, s)
		return int64(len(recorded)), nil
	}
	for _, bad := range []releases.Decision{{By: "x", RunID: "r", ReportHash: hash}, {By: "x", Reason: "r", RunID: "r", ReportHash: "short"}} {
		if _, err := st.Approve(ctx, a.ID, bad, rec); assist.KindOf(err) != assist.KindInvalid {
			t.Errorf("approval %+v: %v", bad, err)
		}
	}
	// A failed audit record leaves the release unapproved.
	if _, err := st.Approve(ctx, a.ID, d, func(releases.Release, *releases.Release) (int64, error) { return 0, errors.New("audit down") }); err == nil {
		t.Fatal("approval without its audit record succeeded")
	}
	if got, _ := st.Get(ctx, a.ID); got.Status != releases.StatusCandidate {
		t.Fatalf("after a failed record: %s", got.Status)
	}
	ap, err := st.Approve(ctx, a.ID, d, rec)
	if err != nil || ap.Status != releases.StatusApproved || ap.AuditSeq != 1 || ap.Decided == nil || ap.ReportHash != hash {
		t.Fatalf("approve: %+v %v", ap, err)
	}
	if _, err := st.Approve(ctx, a.ID, d, rec); assist.KindOf(err) != assist.KindConflict {
		t.Errorf("approving twice: %v", err)
	}
	// A second release of the task supersedes the first.
	b, _ := st.Propose(ctx, assist.TaskInterpret, "m:latest", "sha256:2", "")
	if _, err := st.Approve(ctx, b.ID, d, rec); err != nil {
		t.Fatal(err)
	}
	approved, err := st.Approved(ctx)
	if err != nil || len(approved) != 1 || approved[assist.TaskInterpret].Digest != "sha256:2" {
		t.Fatalf("approved %+v %v", approved, err)
	}
	old, _ := st.Get(ctx, a.ID)
	if old.Status != releases.StatusWithdrawn || !strings.Contains(old.Reason, "superseded") {
		t.Errorf("superseded release %+v", old)
	}
	if _, err := st.Approve(ctx, a.ID, d, rec); assist.KindOf(err) != assist.KindConflict {
		t.Errorf("approving a withdrawn release: %v", err)
	}
	w, err := st.Withdraw(ctx, b.ID, releases.Decision{By: "tok-2", Reason: "digest changed"}, func(r releases.Release) (int64, error) { return 9, nil })
	if err != nil || w.Status != releases.StatusWithdrawn || w.AuditSeq != 9 {
		t.Fatalf("withdraw %+v %v", w, err)
	}
	if approved, _ := st.Approved(ctx); len(approved) != 0 {
		t.Errorf("approved after withdrawal: %+v", approved)
	}
	if _, err := st.Get(ctx, 999); assist.KindOf(err) != assist.KindNotFound {
		t.Errorf("unknown release: %v", err)
	}
	list, _ := st.List(ctx, assist.TaskInterpret)
	if len(list) != 2 {
		t.Errorf("list: %d releases", len(list))
	}
	if want := []string{"approved:sha256:1", "approved:sha256:2 supersedes sha256:1"}; strings.Join(recorded, "|") != strings.Join(want, "|") {
		t.Errorf("recorded %v, want %v", recorded, want)
	}
}

func TestMismatches(t *testing.T) {
	approved := map[assist.Task]releases.Release{
		assist.TaskInterpret: {Task: assist.TaskInterpret, Model: "m:latest", Digest: "d1"},
		assist.TaskEmbed:     {Task: assist.TaskEmbed, Model: "e:latest", Digest: "e1"},
	}
	hosts := []releases.HostModel{{"a", "m:latest", "d1"}, {"b", "m:latest", "d2"}, {"b", "e:latest", "e1"}, {"c", "x:latest", "x"}}
	got := releases.Mismatches(approved, hosts)
	if len(got) != 1 || got[0].Host != "b" || got[0].Task != assist.TaskInterpret || got[0].Digest != "d2" || got[0].Release != "d1" {
		t.Errorf("mismatches %+v", got)
	}
}
