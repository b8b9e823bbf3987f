package redflags

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestExcludedCueKinds(t *testing.T) {
	s := defaultSet(t)
	for _, tc := range []struct {
		name, text, concept, cue string
	}{
		{"fi negation", "Ei rintakipua.", "chest_pain", CueNegation},
		{"sv negation", "Ingen andnöd.", "dyspnoea", CueNegation},
		{"en negation", "No chest pain.", "chest_pain", CueNegation},
		{"fi post negation", "Hengenahdistusta ei ole.", "dyspnoea", CueNegation},
		{"en hypothetical", "What if I get chest pain at night?", "chest_pain", CueHypothetical},
		{"sv hypothetical", "Vad gör jag ifall bröstsmärtan kommer tillbaka?", "chest_pain", CueHypothetical},
		{"fi history", "Aiemmin kouristeli kuumeessa, nyt terve.", "seizure", CueHistory},
		{"en history", "History of seizures, none this year.", "seizure", CueHistory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Detect([]Message{{Text: tc.text}})
			found := false
			for _, e := range r.Excluded {
				if e.Concept == tc.concept && e.Cue == tc.cue {
					found = true
					if got := string([]rune(tc.text)[e.Start:e.End]); got == "" {
						t.Errorf("empty span")
					}
				}
			}
			if !found || len(r.Findings) != 0 {
				t.Errorf("%q: excluded %v, findings %d; want %s excluded by %s", tc.text, r.Excluded, len(r.Findings), tc.concept, tc.cue)
			}
		})
	}
}

func TestConceptsCombineAcrossMessages(t *testing.T) {
	s := defaultSet(t)
	r := s.Detect([]Message{{Text: "Rintakipua on ollut aamusta."}, {Text: "Nyt tuli myös kylmä hiki."}})
	if !r.Flagged("chest_pain_warning_signs") || r.Urgency != Emergency {
		t.Fatalf("got %+v", r)
	}
	msgs := map[int]bool{}
	for _, f := range r.Findings {
		if f.Rule == "RF-CHEST-01" {
			for _, ev := range f.Evidence {
				msgs[ev.Message] = true
			}
		}
	}
	if !msgs[0] || !msgs[1] {
		t.Errorf("evidence should cite both messages: %v", r.Findings[0].Evidence)
	}
}

func TestSpansAreCodePoints(t *testing.T) {
	s := defaultSet(t)
	text := "Äitini ääni on outo: puhe on sammaltavaa."
	r := s.Detect([]Message{{Text: text}})
	if len(r.Findings) != 1 {
		t.Fatalf("findings %+v", r.Findings)
	}
	ev := r.Findings[0].Evidence[0]
	if got := string([]rune(text)[ev.Start:ev.End]); got != "puhe on sammaltavaa" {
		t.Errorf("span text %q", got)
	}
}

func TestLang(t *testing.T) {
	for text, want := range map[string]string{
		"Minulla on ollut kuumetta kolme päivää ja yskää.": "fi",
		"Jag har haft feber i tre dagar och hosta.":        "sv",
		"I have had a fever for three days and a cough.":   "en",
		"??": "",
	} {
		if got := Lang(text); got != want {
			t.Errorf("Lang(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestAmbiguousCueNeedsLanguage(t *testing.T) {
	s := defaultSet(t)
	// "en" is a Finnish negation and a Swedish article.
	if r := s.Detect([]Message{{Text: "En bröstsmärta som strålar ut i armen.", Lang: "sv"}}); !r.Flagged("chest_pain_warning_signs") {
		t.Errorf("Swedish article read as a negation: %+v", r.Excluded)
	}
	if r := s.Detect([]Message{{Text: "En ole huomannut rintakipua.", Lang: "fi"}}); len(r.Findings) != 0 {
		t.Errorf("Finnish negation missed: %+v", r.Findings)
	}
}

func TestDeterministic(t *testing.T) {
	s := defaultSet(t)
	msgs := []Message{{Text: "Kova kuume, sekava ja huulet sinertävät. Ei rintakipua."}}
	a, b := s.Detect(msgs), s.Detect(msgs)
	if len(a.Findings) == 0 || len(a.Findings) != len(b.Findings) || len(a.Excluded) != len(b.Excluded) {
		t.Fatalf("results differ or empty: %+v %+v", a, b)
	}
	for i := range a.Findings {
		if a.Findings[i].Rule != b.Findings[i].Rule {
			t.Errorf("order differs")
		}
	}
}

func TestLoadRejectsBadRuleSets(t *testing.T) {
	base := func() fstest.MapFS {
		fsys := fstest.MapFS{}
		for _, n := range []string{"manifest.yaml", "cues.yaml", "concepts.yaml", "rules.yaml"} {
			b, err := EmbeddedFS().(interface{ ReadFile(string) ([]byte, error) }).ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			fsys[n] = &fstest.MapFile{Data: b}
		}
		return fsys
	}
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{"unknown source", "rules.yaml", "{id: nhs_testicle_lump,", "{id: nope,", `unknown source "nope"`},
		{"unknown concept", "rules.yaml", "any: [seizure]", "any: [seizures]", `unknown concept "seizures"`},
		{"bad urgency", "rules.yaml", "urgency: same_day", "urgency: soon", `urgency "soon"`},
		{"gap at start", "concepts.yaml", `"angina"`, `"... angina"`, `"..." must stand between two words`},
		{"upper case", "concepts.yaml", `"angina"`, `"Angina"`, `not a lower-case word`},
		{"unknown field", "rules.yaml", "  flag: seizure\n", "  flag: seizure\n  colour: red\n", `unknown field "colour"`},
		{"bad version", "manifest.yaml", "version: 1.2.0", "version: one", `not a semantic version`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := base()
			data := string(fsys[tc.file].Data)
			if !strings.Contains(data, tc.old) {
				t.Fatalf("%s does not contain %q", tc.file, tc.old)
			}
			fsys[tc.file] = &fstest.MapFile{Data: []byte(strings.Replace(data, tc.old, tc.new, 1))}
			_, err := Load(fsys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
