package summaryfhir

import (
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/assist/golden"
	"github.com/soteai/gateway/assist/summary"
)

func visitDraft() *summary.Draft {
	tm, _ := summary.DefaultTemplates().Get("kanta", summary.KindVisit)
	d := &summary.Draft{ID: 42, Kind: summary.KindVisit, TemplateID: tm.ID, TemplateVersion: tm.Version, Title: tm.Title.In("fi"),
		DocumentType: tm.DocumentType, Lang: "fi", Model: summary.ModelRef{Name: "llama3.1:8b", Digest: "sha256:46e0c10c039e"},
		AuditSeq: 1007, TaskSeq: 1003, Created: time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)}
	for _, s := range tm.Sections {
		d.Sections = append(d.Sections, summary.DraftSection{Key: s.Key, Title: s.Title.In("fi"), Code: s.Code, Sentences: []summary.Sentence{}})
	}
	d.Sections[0].Sentences = []summary.Sentence{{ID: "s1", Text: "Päänsärky kolme päivää oikealla.", Cites: []string{"t2"}, Supported: true}}
	d.Sections[1].Sentences = []summary.Sentence{{ID: "s2", Text: "Ei rintakipua <eikä> kuumetta.", Cites: []string{"t3", "t4"}, Supported: true}}
	d.Sections[5].Sentences = []summary.Sentence{{ID: "s3", Text: "Ibuprofeeni 800 mg x 3.", Cites: []string{"t5"},
		Flags: []summary.Flag{{Type: "dose", Message: "800 mg is not in the cited turn", Evidence: "400 mg"}}}}
	return d
}

func backgroundDraft() *summary.Draft {
	tm, _ := summary.DefaultTemplates().Get("background", summary.KindBackground)
	d := &summary.Draft{ID: 43, Kind: summary.KindBackground, TemplateID: tm.ID, TemplateVersion: tm.Version, Title: tm.Title.In("en"),
		DocumentType: tm.DocumentType, Lang: "en", Model: summary.ModelRef{Name: "llama3.1:8b", Digest: "sha256:46e0c10c039e"},
		AuditSeq: 2001, Created: time.Date(2025, 6, 2, 9, 31, 0, 0, time.UTC)}
	for _, s := range tm.Sections {
		d.Sections = append(d.Sections, summary.DraftSection{Key: s.Key, Title: s.Title.In("en"), Code: s.Code, Sentences: []summary.Sentence{}})
		d.Facts = append(d.Facts, summary.DraftSection{Key: s.Key, Title: s.Title.In("en"), Code: s.Code, Sentences: []summary.Sentence{}})
	}
	d.Facts[0].Sentences = []summary.Sentence{{ID: "f1", Text: "Atrial fibrillation (since 2019-05-01).", Cites: []string{"Condition/c1"}, Supported: true}}
	d.Facts[1].Sentences = []summary.Sentence{
		{ID: "f2", Text: "warfarin, according to INR.", Cites: []string{"MedicationStatement/m1"}, Supported: true},
		{ID: "f3", Text: "Medication risk (severity high): NSAID with an anticoagulant — warfarin, ibuprofen.", Cites: []string{"risk/DDI-01", "MedicationStatement/m1", "MedicationStatement/m2"}, Supported: true},
	}
	d.Sections[1].Sentences = []summary.Sentence{{ID: "s1", Text: "Takes warfarin and ibuprofen together.", Cites: []string{"MedicationStatement/m1", "MedicationStatement/m2"}, Supported: true}}
	return d
}

// TestBundleGolden renders a visit note and a background summary; the
// files are checked against the R4 structure by Validate.
func TestBundleGolden(t *testing.T) {
	for name, d := range map[string]*summary.Draft{"visit_kanta_fi": visitDraft(), "background_en": backgroundDraft()} {
		t.Run(name, func(t *testing.T) {
			b, err := Bundle(d, make([]summary.Turn, 5), nil)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/"+name+".fhir.json", b)
			s := string(b)
			for _, want := range []string{`"status": "preliminary"`, `"code": "AIAST"`, ProfileAIProvenance, `"resourceType": "Provenance"`,
				`"resourceType": "Device"`, "sha256:46e0c10c039e", d.TemplateID + "@" + d.TemplateVersion} {
				if !strings.Contains(s, want) {
					t.Errorf("missing %s", want)
				}
			}
		})
	}
	b, _ := Bundle(visitDraft(), nil, nil)
	if !strings.Contains(string(b), "&lt;eikä&gt;") || strings.Contains(string(b), "<eikä>") {
		t.Error("narrative text is not escaped")
	}
}

func TestValidate(t *testing.T) {
	good, err := Bundle(visitDraft(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"unknown element", `"status": "preliminary"`, `"status": "preliminary", "colour": "red"`, "colour"},
		{"wrong type", `"title": "Hoitokertomus"`, `"title": 5`, "title"},
		{"bad code", `"status": "preliminary"`, `"status": "draft"`, "Composition"},
		{"missing author", `"author": [`, `"authorX": [`, "authorX"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(good), tc.from, tc.to, 1)
			if bad == string(good) {
				t.Fatal("no change")
			}
			if err := Validate([]byte(bad)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

// TestBundleSigned renders the note a clinician signed: edited in place
// (status final, attested, the edited sentence marked, the reviewer as
// verifier), edited as one text, and a rejected draft (refused).
func TestBundleSigned(t *testing.T) {
	rv := &summary.Review{DraftID: 42, Outcome: summary.OutcomeEdited, AuditSeq: 1010, Created: "2025-06-02T09:41:00Z",
		Edits: []summary.SentenceEdit{{ID: "s3", Text: "Ibuprofeeni 400 mg x 3."}}}
	b, err := Bundle(visitDraft(), make([]summary.Turn, 5), rv)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/visit_kanta_fi_signed.fhir.json", b)
	s := string(b)
	for _, want := range []string{`"status": "final"`, `"mode": "professional"`, `"code": "verifier"`, "Ibuprofeeni 400 mg x 3.", `"url": "edited"`} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(s, "800 mg") {
		t.Error("the signed note still has the draft's dose")
	}
	whole := &summary.Review{Outcome: summary.OutcomeEdited, Created: "2025-06-02T09:41:00Z", FinalText: "Tulosyy\nPäänsärky & pahoinvointi."}
	b, err = Bundle(visitDraft(), nil, whole)
	if err != nil || !strings.Contains(string(b), "Päänsärky &amp; pahoinvointi.") || strings.Contains(string(b), "rintakipua") {
		t.Errorf("signed as text: %v %s", err, b)
	}
	if _, err := Bundle(visitDraft(), nil, &summary.Review{Outcome: summary.OutcomeRejected}); err == nil {
		t.Error("a rejected draft was rendered")
	}
}
