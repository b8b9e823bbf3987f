package clinic

import (
	"encoding/json"
	"strings"
	"unicode"

	"github.com/soteai/gateway/risk"
)

// Drug index: catalogue names (English, Finnish, brands, aliases) by
// lower-case single word.
type drugIndex struct {
	exact map[string]string // name → ATC
	stems []stem            // names of five or more letters, for inflected forms
}

type stem struct{ name, atc string }

func newDrugIndex(kb *risk.KB) drugIndex {
	ix := drugIndex{exact: map[string]string{}}
	for _, d := range kb.Drugs() {
		names := append([]string{d.NameEN, d.NameFI}, d.Brands...)
		names = append(names, d.Aliases...)
		for _, n := range names {
			n = strings.ToLower(strings.TrimSpace(n))
			if n == "" || strings.ContainsAny(n, " ()") {
				continue
			}
			if _, dup := ix.exact[n]; !dup {
				ix.exact[n] = d.ATC
				if len([]rune(n)) >= 5 {
					ix.stems = append(ix.stems, stem{n, d.ATC})
				}
			}
		}
	}
	return ix
}

// MentionedDrug is a medicine named in the thread or given in the
// patient context.
type MentionedDrug struct {
	Name string `json:"name"`
	ATC  string `json:"atc"`
	// From is "message" (with Message, the conversation index) or
	// "MedicationStatement".
	From    string `json:"from"`
	Message *int   `json:"message,omitempty"`
}

// find returns the catalogue medicines named in text: whole words, or
// Finnish inflected forms (the name plus at most four letters:
// "ibuprofeenia", "Buranaa").
func (ix drugIndex) find(text string) []MentionedDrug {
	var out []MentionedDrug
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && r != '-' }) {
		atc, ok := ix.exact[w]
		if !ok {
			for _, s := range ix.stems {
				if strings.HasPrefix(w, s.name) && len([]rune(w))-len([]rune(s.name)) <= 4 {
					atc, ok = s.atc, true
					break
				}
			}
		}
		if ok && !seen[atc] {
			seen[atc] = true
			out = append(out, MentionedDrug{Name: w, ATC: atc, From: "message"})
		}
	}
	return out
}

// fhirCoding is the part of a FHIR CodeableConcept the clinic reads.
type fhirConcept struct {
	Coding []struct {
		System string `json:"system"`
		Code   string `json:"code"`
	} `json:"coding"`
	Text string `json:"text"`
}

const (
	systemICD10 = "http://hl7.org/fhir/sid/icd-10"
	systemATC   = "http://www.whocc.no/atc"
)

// conditionCodes reads ICD-10 codes of active FHIR Conditions; resources
// that are not Conditions, or have no ICD-10 coding, are skipped.
func conditionCodes(raw []json.RawMessage) []string {
	var out []string
	for _, r := range raw {
		var c struct {
			ResourceType   string      `json:"resourceType"`
			Code           fhirConcept `json:"code"`
			ClinicalStatus fhirConcept `json:"clinicalStatus"`
		}
		if json.Unmarshal(r, &c) != nil || c.ResourceType != "Condition" {
			continue
		}
		inactive := false
		for _, cd := range c.ClinicalStatus.Coding {
			inactive = inactive || cd.Code == "inactive" || cd.Code == "resolved" || cd.Code == "remission"
		}
		if inactive {
			continue
		}
		for _, cd := range c.Code.Coding {
			if strings.EqualFold(cd.System, systemICD10) && risk.NormalizeICD10(cd.Code) != nil {
				out = append(out, cd.Code)
			}
		}
	}
	return out
}

// statementDrugs reads the medicines of FHIR MedicationStatements (ATC
// coding, else the concept text resolved by name).
func statementDrugs(raw []json.RawMessage, ix drugIndex) []MentionedDrug {
	var out []MentionedDrug
	for _, r := range raw {
		var m struct {
			ResourceType              string      `json:"resourceType"`
			Status                    string      `json:"status"`
			MedicationCodeableConcept fhirConcept `json:"medicationCodeableConcept"`
		}
		if json.Unmarshal(r, &m) != nil || m.ResourceType != "MedicationStatement" || m.Status == "stopped" || m.Status == "entered-in-error" {
			continue
		}
		found := false
		for _, cd := range m.MedicationCodeableConcept.Coding {
			if strings.EqualFold(cd.System, systemATC) && risk.ValidProductATC(risk.NormalizeATC(cd.Code)) {
				out = append(out, MentionedDrug{Name: m.MedicationCodeableConcept.Text, ATC: risk.NormalizeATC(cd.Code), From: "MedicationStatement"})
				found = true
				break
			}
		}
		if !found && m.MedicationCodeableConcept.Text != "" {
			for _, d := range ix.find(m.MedicationCodeableConcept.Text) {
				d.From = "MedicationStatement"
				out = append(out, d)
			}
		}
	}
	return out
}
