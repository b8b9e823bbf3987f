package summary

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/soteai/gateway/assist"
)

// A small reader of the FHIR R4 resources a summary uses. It keeps only
// the fields it renders; a resource of another type is listed as skipped,
// never dropped silently.

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type concept struct {
	Coding []coding `json:"coding"`
	Text   string   `json:"text"`
}

func (c *concept) label() string {
	if c == nil {
		return ""
	}
	if c.Text != "" {
		return c.Text
	}
	for _, k := range c.Coding {
		if k.Display != "" {
			return k.Display
		}
	}
	for _, k := range c.Coding {
		if k.Code != "" {
			return k.Code
		}
	}
	return ""
}

func (c *concept) code(system string) string {
	if c == nil {
		return ""
	}
	for _, k := range c.Coding {
		if strings.TrimSuffix(k.System, "/") == system {
			return k.Code
		}
	}
	return ""
}

type reference struct {
	Reference string `json:"reference"`
	Display   string `json:"display"`
}

type humanName struct {
	Text   string   `json:"text"`
	Family string   `json:"family"`
	Given  []string `json:"given"`
}

type quantity struct {
	Value *json.Number `json:"value"`
	Unit  string       `json:"unit"`
	Code  string       `json:"code"`
}

func (q *quantity) String() string {
	if q == nil || q.Value == nil {
		return ""
	}
	u := q.Unit
	if u == "" {
		u = q.Code
	}
	return strings.TrimSpace(q.Value.String() + " " + u)
}

type period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type dosage struct {
	Text string `json:"text"`
}

type fhirResource struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	// Patient
	Name      []humanName `json:"name"`
	Gender    string      `json:"gender"`
	BirthDate string      `json:"birthDate"`
	// Condition, AllergyIntolerance
	ClinicalStatus     *concept `json:"clinicalStatus"`
	VerificationStatus *concept `json:"verificationStatus"`
	Code               *concept `json:"code"`
	OnsetDateTime      string   `json:"onsetDateTime"`
	RecordedDate       string   `json:"recordedDate"`
	Criticality        string   `json:"criticality"`
	Reaction           []struct {
		Manifestation []concept `json:"manifestation"`
		Severity      string    `json:"severity"`
	} `json:"reaction"`
	// MedicationStatement, MedicationRequest
	Status                    string     `json:"status"`
	MedicationCodeableConcept *concept   `json:"medicationCodeableConcept"`
	MedicationReference       *reference `json:"medicationReference"`
	Dosage                    []dosage   `json:"dosage"`
	DosageInstruction         []dosage   `json:"dosageInstruction"`
	// Observation
	ValueQuantity        *quantity `json:"valueQuantity"`
	ValueString          string    `json:"valueString"`
	ValueCodeableConcept *concept  `json:"valueCodeableConcept"`
	EffectiveDateTime    string    `json:"effectiveDateTime"`
	Category             []concept `json:"category"`
	// Encounter
	Class *coding `json:"class"`
	// Type is a list of concepts in an Encounter, a code in a Bundle.
	Type   json.RawMessage `json:"type"`
	Period *period         `json:"period"`
	Reason []concept       `json:"reasonCode"`
	// DocumentReference
	Description string `json:"description"`
	Date        string `json:"date"`
	Content     []struct {
		Attachment struct {
			ContentType string `json:"contentType"`
			Data        string `json:"data"`
			Title       string `json:"title"`
		} `json:"attachment"`
	} `json:"content"`
	Text *struct {
		Div string `json:"div"`
	} `json:"text"`
}

func (r *fhirResource) ref() string { return r.ResourceType + "/" + r.ID }

// fhirRecord is what was read from the resources, in input order.
type fhirRecord struct {
	resources   []*fhirResource
	medications map[string]*concept // Medication/id -> code
	Skipped     []Skipped
}

// Skipped is a resource that was not used, and why.
type Skipped struct {
	Ref    string `json:"ref"`
	Reason string `json:"reason"`
}

var usedTypes = map[string]bool{"Patient": true, "Condition": true, "MedicationStatement": true, "MedicationRequest": true,
	"Medication": true, "AllergyIntolerance": true, "Observation": true, "Encounter": true, "DocumentReference": true}

// readFHIR reads a Bundle, a single resource or a JSON array of them.
// Errors: invalid naming the entry and what is wrong, never a value.
func readFHIR(data []byte) (*fhirRecord, error) {
	rec := &fhirRecord{medications: map[string]*concept{}}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return rec, nil
	}
	if data[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(data, &arr); err != nil {
			return nil, fhirErr("context", err)
		}
		for i, a := range arr {
			if err := rec.add(fmt.Sprintf("context[%d]", i), a, 0); err != nil {
				return nil, err
			}
		}
		return rec, nil
	}
	if err := rec.add("context", data, 0); err != nil {
		return nil, err
	}
	return rec, nil
}

func fhirErr(where string, err error) error {
	var te *json.UnmarshalTypeError
	msg := "is not valid JSON"
	if errors.As(err, &te) {
		msg = fmt.Sprintf("field %q has the wrong type (%s expected)", te.Field, te.Type.Kind())
	}
	return assist.E(assist.KindInvalid, "summary.readFHIR", fmt.Sprintf("invalid FHIR: %s %s", where, msg))
}

func (rec *fhirRecord) add(where string, data []byte, depth int) error {
	if depth > 3 {
		return assist.E(assist.KindInvalid, "summary.readFHIR", "invalid FHIR: "+where+": bundles nested too deeply")
	}
	var r fhirResource
	if err := json.Unmarshal(data, &r); err != nil {
		return fhirErr(where, err)
	}
	if r.ResourceType == "" {
		return assist.E(assist.KindInvalid, "summary.readFHIR", "invalid FHIR: "+where+" has no resourceType")
	}
	if r.ResourceType == "Bundle" {
		var b struct {
			Entry []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(data, &b); err != nil {
			return fhirErr(where, err)
		}
		for i, e := range b.Entry {
			if len(bytes.TrimSpace(e.Resource)) == 0 {
				continue
			}
			if err := rec.add(fmt.Sprintf("%s.entry[%d]", where, i), e.Resource, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if r.ID == "" {
		return assist.E(assist.KindInvalid, "summary.readFHIR", fmt.Sprintf("invalid FHIR: %s (%s) has no id; summaries cite resources by id", where, r.ResourceType))
	}
	if !usedTypes[r.ResourceType] {
		rec.Skipped = append(rec.Skipped, Skipped{Ref: r.ref(), Reason: "resource type not used in summaries"})
		return nil
	}
	if r.ResourceType == "Medication" {
		rec.medications["Medication/"+r.ID] = r.Code
		return nil
	}
	rec.resources = append(rec.resources, &r)
	return nil
}

// names are the patients' names, for the pseudonymiser.
func (rec *fhirRecord) names() []string {
	var out []string
	for _, r := range rec.resources {
		if r.ResourceType != "Patient" {
			continue
		}
		for _, n := range r.Name {
			out = append(out, n.Given...)
			if n.Family != "" {
				out = append(out, n.Family)
			}
		}
	}
	return out
}

func (rec *fhirRecord) medName(r *fhirResource) string {
	if r.MedicationCodeableConcept != nil {
		return r.MedicationCodeableConcept.label()
	}
	if r.MedicationReference != nil {
		if c := rec.medications[r.MedicationReference.Reference]; c != nil {
			return c.label()
		}
		return r.MedicationReference.Display
	}
	return ""
}

func year(date string) string {
	if len(date) >= 4 {
		return date[:4]
	}
	return ""
}

func day(date string) string {
	if len(date) >= 10 {
		return date[:10]
	}
	return date
}

// text renders a resource as one line of facts (English field words; the
// values as the record has them). Patient lines carry no name or birth
// date: only sex and birth year.
func (rec *fhirRecord) text(r *fhirResource) string {
	var parts []string
	add := func(label, v string) {
		if v = strings.TrimSpace(v); v != "" {
			if label != "" {
				v = label + " " + v
			}
			parts = append(parts, v)
		}
	}
	switch r.ResourceType {
	case "Patient":
		add("patient, sex", r.Gender)
		add("born", year(r.BirthDate))
	case "Condition":
		add("condition:", r.Code.label())
		add("status", r.ClinicalStatus.code("http://terminology.hl7.org/CodeSystem/condition-clinical"))
		add("since", day(r.OnsetDateTime))
	case "MedicationStatement", "MedicationRequest":
		add("medication:", rec.medName(r))
		for _, d := range append(r.Dosage, r.DosageInstruction...) {
			add("", d.Text)
		}
		add("status", r.Status)
	case "AllergyIntolerance":
		add("allergy:", r.Code.label())
		for _, re := range r.Reaction {
			for _, m := range re.Manifestation {
				add("reaction", m.label())
			}
		}
		add("criticality", r.Criticality)
	case "Observation":
		add("observation:", r.Code.label())
		add("=", r.ValueQuantity.String())
		add("=", r.ValueString)
		add("=", r.ValueCodeableConcept.label())
		add("on", day(r.EffectiveDateTime))
	case "Encounter":
		t := ""
		var types []concept
		if json.Unmarshal(r.Type, &types) == nil && len(types) > 0 {
			t = types[0].label()
		}
		if t == "" && r.Class != nil {
			t = r.Class.Display
			if t == "" {
				t = r.Class.Code
			}
		}
		add("encounter:", t)
		if len(r.Reason) > 0 {
			add("reason", r.Reason[0].label())
		}
		if r.Period != nil {
			add("on", day(r.Period.Start))
		}
		add("status", r.Status)
	case "DocumentReference":
		add("note:", r.docText())
		add("on", day(r.Date))
	}
	return strings.Join(parts, ", ")
}

// docText is a DocumentReference's text: inline text/plain attachments
// (base64), else the description.
func (r *fhirResource) docText() string {
	var b strings.Builder
	for _, c := range r.Content {
		a := c.Attachment
		if a.Data == "" || (a.ContentType != "" && !strings.HasPrefix(a.ContentType, "text/plain")) {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(a.Data)
		if err != nil || !utf8.Valid(raw) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(strings.TrimSpace(string(raw)))
	}
	if b.Len() == 0 {
		return r.Description
	}
	return b.String()
}

// turns renders the resources as citable sources ("Type/id"), in a stable
// order: by type as listed, then input order.
func (rec *fhirRecord) turns(types ...string) []Turn {
	order := map[string]int{}
	for i, t := range types {
		order[t] = i + 1
	}
	var rs []*fhirResource
	for _, r := range rec.resources {
		if len(types) == 0 || order[r.ResourceType] > 0 {
			rs = append(rs, r)
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return order[rs[i].ResourceType] < order[rs[j].ResourceType] })
	out := make([]Turn, 0, len(rs))
	for _, r := range rs {
		if s := rec.text(r); s != "" {
			out = append(out, Turn{ID: r.ref(), Speaker: r.ResourceType, Text: s})
		}
	}
	return out
}
