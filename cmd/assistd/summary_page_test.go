package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/summary"
	"github.com/soteai/gateway/assist/summary/grounding"
	"github.com/soteai/gateway/cmd/assistd/internal/browsertest"
	"github.com/soteai/gateway/risk"
)

// pageDraft keeps a draft for the review page: a Finnish visit whose
// sentences were checked by the real grounding checker (the tiny test
// model writes nonsense, so the sentences are written here).
func pageDraft(t *testing.T, g *gateway) int64 {
	t.Helper()
	sources := []summary.Turn{
		{ID: "t1", Speaker: "lääkäri", Text: "Mikä tuo tänään vastaanotolle?"},
		{ID: "t2", Speaker: "potilas", Text: "Päänsärkyä kolme päivää, oikealla puolella."},
		{ID: "t3", Speaker: "lääkäri", Text: "Onko rintakipua?"},
		{ID: "t4", Speaker: "potilas", Text: "Ei rintakipua."},
		{ID: "t5", Speaker: "lääkäri", Text: "Aloitetaan ibuprofeeni 400 mg kolme kertaa päivässä."},
	}
	tm, _ := summary.DefaultTemplates().Get("kanta", summary.KindVisit)
	d := &summary.Draft{Kind: summary.KindVisit, TemplateID: tm.ID, TemplateVersion: tm.Version, Title: tm.Title.In("fi"),
		DocumentType: tm.DocumentType, Lang: "fi", Model: summary.ModelRef{Name: testModel()}, Created: time.Now().UTC()}
	for _, s := range tm.Sections {
		d.Sections = append(d.Sections, summary.DraftSection{Key: s.Key, Title: s.Title.In("fi"), Code: s.Code, Sentences: []summary.Sentence{}})
	}
	d.Flags = []summary.Flag{{Type: summary.FlagIncomplete, Message: "the model's answer ended early"}}
	d.Sections[0].Sentences = []summary.Sentence{{ID: "s1", Text: "Päänsärkyä kolme päivää oikealla.", Cites: []string{"t2"}}}
	d.Sections[2].Sentences = []summary.Sentence{{ID: "s2", Text: "Ei rintakipua.", Cites: []string{"t3", "t4"}}}
	d.Sections[5].Sentences = []summary.Sentence{{ID: "s3", Text: "Ibuprofeeni 800 mg kolmesti päivässä.", Cites: []string{"t5"}}}
	kb, err := risk.DefaultKB()
	if err != nil {
		t.Fatal(err)
	}
	g1 := summary.CheckerGrounder{Checker: grounding.New(kb)}
	for i := range d.Sections {
		vs := g1.Check("fi", sources, d.Sections[i].Sentences)
		for k := range d.Sections[i].Sentences {
			d.Sections[i].Sentences[k].Supported, d.Sections[i].Sentences[k].Flags = vs[k].Supported, vs[k].Flags
		}
	}
	ctx := assist.WithActor(context.Background(), assist.Actor{TokenID: "fixture", Organisation: "test county"})
	id, err := summary.NewStore(g.DB).SaveDraft(ctx, d, sources)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestPagesSummaryReview opens a draft on the review page in headless
// Chromium: the transcript beside the draft, focusing a sentence
// highlights its turns, the invented dose is flagged with its reason, the
// clinician edits it in place and saves; the review is stored as edited.
func TestPagesSummaryReview(t *testing.T) {
	g := startGateway(t, hostYAML("a", ollamaURL(t), 2), "models:\n  chat: "+testModel()+"\n")
	id := pageDraft(t, g)
	if r := g.do(t, "", "GET", "/ui/summary/", ""); r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("GET /ui/summary/: %d", r.StatusCode)
	}

	b := browsertest.New(t, browsertest.Options{})
	b.Navigate(g.URL + "/ui/home/")
	b.WaitVisible("#token-form")
	b.SetValue("#ui-lang", "fi")
	b.SetValue("#token", g.Tokens[assist.RoleClinician])
	b.Click("#token-form button")
	b.WaitVisible(`#pages a[href="/ui/summary/"]`)

	b.Navigate(fmt.Sprintf("%s/ui/summary/?id=%d", g.URL, id))
	b.WaitVisible(`.sentence[data-id="s3"]`)
	if got := b.Text("h1"); got != "Luonnoksen tarkistus" {
		t.Errorf("Finnish title %q", got)
	}
	if n := browsertest.Eval[int](b, `document.querySelectorAll("#transcript li").length`); n != 5 {
		t.Errorf("%d turns shown", n)
	}
	// The invented dose is flagged, with the checker's reason shown.
	if !browsertest.Eval[bool](b, `document.querySelector('.sentence[data-id="s3"]').classList.contains("flagged")`) {
		t.Error("the 800 mg sentence is not marked")
	}
	if reason := b.Text(`.reason[data-flag="dose"]`); !strings.Contains(reason, "annos") || !strings.Contains(reason, "400") {
		t.Errorf("reason %q", reason)
	}
	if browsertest.Eval[bool](b, `document.querySelector('.sentence[data-id="s1"]').classList.contains("flagged")`) {
		t.Error("a faithful sentence is marked")
	}
	// A draft-level flag (the model's answer broke off) is shown too.
	if got := b.Text(`#draft-flags li[data-flag="incomplete"]`); !strings.Contains(got, "katkesi") {
		t.Errorf("draft flag %q", got)
	}
	// Focusing (or hovering) a sentence highlights the turns it cites.
	b.Click(`.sentence[data-id="s2"]`)
	if !b.WaitFor(`document.querySelector('#transcript li[data-id="t4"]').classList.contains("hl") && !document.querySelector('#transcript li[data-id="t2"]').classList.contains("hl")`, 0) {
		t.Error("the cited turns are not highlighted")
	}
	browsertest.Eval[bool](b, `document.querySelector('.sentence[data-id="s1"]').dispatchEvent(new MouseEvent("mouseenter")) || true`)
	if !browsertest.Eval[bool](b, `document.querySelector('#transcript li[data-id="t2"]').classList.contains("hl")`) {
		t.Error("hovering does not highlight")
	}
	// Edit in place: the clinician corrects the dose and saves.
	browsertest.Eval[bool](b, `(() => { const s = document.querySelector('.sentence[data-id="s3"]'); s.focus();
		const r = document.createRange(); r.selectNodeContents(s); const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r); return true })()`)
	b.Type(`.sentence[data-id="s3"]`, "Ibuprofeeni 400 mg kolmesti päivässä.")
	b.Screenshot("summary-review-edited")
	b.Click("#save")
	if !b.WaitFor(`document.getElementById("status").dataset.outcome === "edited"`, 10*time.Second) {
		t.Fatalf("not saved: %q", b.Text("#status"))
	}
	b.Screenshot("summary-review-saved")
	var outcome, final string
	var dist, over int
	if err := g.DB.QueryRow(context.Background(), "SELECT outcome, final_text, edit_distance, flags_overridden FROM summary_reviews WHERE draft_id = $1", id).
		Scan(&outcome, &final, &dist, &over); err != nil {
		t.Fatal(err)
	}
	if outcome != "edited" || !strings.Contains(final, "Ibuprofeeni 400 mg kolmesti päivässä.") || strings.Contains(final, "800") || dist == 0 || over != 0 {
		t.Errorf("stored review: %s %q distance %d overridden %d", outcome, final, dist, over)
	}
}
