package summary

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/risk"
	"github.com/soteai/gateway/risk/fhirin"
)

// BackgroundRequest asks for a client background summary.
type BackgroundRequest struct {
	// Bundle is a FHIR R4 Bundle (or one resource, or a JSON array of
	// them): Patient, Condition, MedicationStatement/Request, Medication,
	// AllergyIntolerance, Observation, Encounter, DocumentReference.
	Bundle   []byte
	Lang     string
	Template string // default "background"
	Patient  string
	Stream   bool
}

// Background writes client background summaries: deterministic facts per
// section, each citing its resources (with the medication risk flags of
// the risk engine), and the model's short summary written from them, with
// every sentence checked against the resources it cites.
type Background struct {
	Service *Service
	KB      *risk.KB
	// Encounters is how many recent encounters are listed (default 5).
	Encounters int
	Now        func() time.Time
}

var factWords = map[string]map[string]string{
	"since":    {"fi": "alkaen", "sv": "sedan", "en": "since"},
	"reaction": {"fi": "reaktio", "sv": "reaktion", "en": "reaction"},
	"risk":     {"fi": "Lääkeriski", "sv": "Läkemedelsrisk", "en": "Medication risk"},
	"severity": {"fi": "vakavuus", "sv": "allvarlighetsgrad", "en": "severity"},
	"on":       {"fi": "", "sv": "", "en": "on"},
}

func word(k, lang string) string { return factWords[k][lang] }

// Summarize writes the background summary. Errors: invalid for a bundle
// that is not FHIR or has nothing to summarise (nothing is recorded), and
// those of the model calls and the audit log.
func (b *Background) Summarize(ctx context.Context, req *BackgroundRequest, emit func(Event) error) (*Draft, error) {
	s := b.Service
	if err := validLang(req.Lang); err != nil {
		return nil, err
	}
	name := req.Template
	if name == "" {
		name = "background"
	}
	tmpl, err := s.Templates.Get(name, KindBackground)
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(req.Bundle))) == 0 {
		return nil, invalid("the request body is empty; send a FHIR R4 Bundle")
	}
	fr, err := readFHIR(req.Bundle)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	sources := fr.turns("Patient", "Condition", "MedicationStatement", "MedicationRequest", "AllergyIntolerance", "Observation", "Encounter", "DocumentReference")
	if len(sources) == 0 || len(sources) == 1 && sources[0].Speaker == "Patient" {
		return nil, invalid("the bundle has no resources a background summary uses (%d skipped)", len(fr.Skipped))
	}
	lim := s.Options.Limits.withDefaults()
	total := 0
	for _, t := range sources {
		total += len([]rune(t.Text))
	}
	if total > lim.MaxChars {
		return nil, assist.E(assist.KindTooLarge, "summary.Background", fmt.Sprintf("the bundle has more than %d characters of text", lim.MaxChars))
	}
	facts, riskTurns, err := b.facts(tmpl, fr, req.Bundle, req.Lang, now())
	if err != nil {
		return nil, err
	}
	// Risk flags are sources too: the model and the checker see them.
	sources = append(sources, riskTurns...)
	patient := req.Patient
	for _, r := range fr.resources {
		if patient == "" && r.ResourceType == "Patient" {
			patient = r.ref()
		}
	}
	j := s.newJob(tmpl, req.Lang, sources, fr.names(), patient, emit)
	d, err := j.run(ctx, req.Stream)
	if err != nil {
		return nil, j.failed(ctx, err)
	}
	// The deterministic facts are checked like the model's sentences.
	n := 0
	for i := range facts {
		for k := range facts[i].Sentences {
			n++
			facts[i].Sentences[k].ID = "f" + itoa(n)
		}
		j.check(facts[i].Sentences)
	}
	d.Facts, d.Skipped = facts, fr.Skipped
	if err := j.finish(ctx, d); err != nil {
		return nil, j.failed(ctx, err)
	}
	return d, nil
}

// facts builds the cited facts per section of the background template.
// The risk flags come back as sources ("risk/<flag key>") that the flag
// facts cite beside the medications involved.
func (b *Background) facts(t *Template, fr *fhirRecord, bundle []byte, lang string, now time.Time) ([]DraftSection, []Turn, error) {
	var riskTurns []Turn
	by := map[string][]Sentence{}
	add := func(key, text string, cites ...string) {
		by[key] = append(by[key], Sentence{Text: strings.TrimSpace(text), Cites: cites})
	}
	var encounters []*fhirResource
	for _, r := range fr.resources {
		switch r.ResourceType {
		case "Condition":
			st := r.ClinicalStatus.code("http://terminology.hl7.org/CodeSystem/condition-clinical")
			if st != "" && st != "active" && st != "recurrence" && st != "relapse" {
				continue
			}
			txt := r.Code.label()
			if on := day(r.OnsetDateTime); on != "" {
				txt += " (" + word("since", lang) + " " + on + ")"
			}
			add("problems", txt+".", r.ref())
		case "MedicationStatement", "MedicationRequest":
			if r.Status != "" && r.Status != "active" && r.Status != "intended" && r.Status != "draft" && r.Status != "on-hold" {
				continue
			}
			txt := fr.medName(r)
			for _, d := range append(r.Dosage, r.DosageInstruction...) {
				if d.Text != "" {
					txt += ", " + d.Text
				}
			}
			add("medications", txt+".", r.ref())
		case "AllergyIntolerance":
			txt := r.Code.label()
			var re []string
			for _, x := range r.Reaction {
				for _, m := range x.Manifestation {
					re = append(re, m.label())
				}
			}
			if len(re) > 0 {
				txt += " (" + word("reaction", lang) + ": " + strings.Join(re, ", ") + ")"
			}
			add("allergies", txt+".", r.ref())
		case "Encounter":
			encounters = append(encounters, r)
		case "DocumentReference":
			if txt := r.docText(); txt != "" {
				for _, s := range splitSentences(txt) {
					add("functional_social", s, r.ref())
				}
			}
		case "Observation":
			social := false
			for _, c := range r.Category {
				for _, k := range c.Coding {
					if k.Code == "social-history" || k.Code == "functional-status" || k.Code == "survey" {
						social = true
					}
				}
			}
			if social {
				add("functional_social", strings.TrimPrefix(fr.text(r), "observation: ")+".", r.ref())
			}
		}
	}
	sort.SliceStable(encounters, func(i, j int) bool { return encStart(encounters[i]) > encStart(encounters[j]) })
	max := b.Encounters
	if max <= 0 {
		max = 5
	}
	for i, r := range encounters {
		if i == max {
			break
		}
		add("encounters", strings.TrimPrefix(fr.text(r), "encounter: ")+".", r.ref())
	}
	if b.KB != nil && len(by["medications"]) > 0 {
		p, err := fhirin.ParseBundle(bundle, now)
		if err != nil {
			return nil, nil, err
		}
		if len(p.Input.Drugs) > 0 {
			res, err := risk.Assess(b.KB, p.Input)
			if err != nil {
				return nil, nil, err
			}
			rl := lang
			if rl == "sv" {
				rl = "en" // the knowledge base has Finnish and English texts
			}
			for _, f := range res.Flags {
				var names, refs []string
				for _, fd := range f.Drugs {
					if fd.Index < len(res.Drugs) {
						names = append(names, res.Drugs[fd.Index].DisplayName(rl))
						if ref := res.Drugs[fd.Index].Ref; ref != "" {
							refs = append(refs, ref)
						}
					}
				}
				text := fmt.Sprintf("%s (%s %s): %s — %s.", word("risk", lang), word("severity", lang), f.Severity,
					f.Title.In(rl), strings.Join(names, ", "))
				id := "risk/" + strings.NewReplacer(":", "-", " ", "-").Replace(f.Key)
				riskTurns = append(riskTurns, Turn{ID: id, Speaker: "risk " + res.KBVersion, Text: text})
				add("medications", text, append([]string{id}, refs...)...)
			}
		}
	}
	var out []DraftSection
	for _, s := range t.Sections {
		ss := by[s.Key]
		if ss == nil {
			ss = []Sentence{}
		}
		out = append(out, DraftSection{Key: s.Key, Title: s.Title.In(lang), Code: s.Code, Sentences: ss})
	}
	return out, riskTurns, nil
}

func encStart(r *fhirResource) string {
	if r.Period != nil {
		return r.Period.Start
	}
	return ""
}
