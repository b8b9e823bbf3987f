package fhirin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/risk"
)

// Code systems and codes understood by the adapter.
const (
	SystemATC   = "http://www.whocc.no/atc"
	SystemLOINC = "http://loinc.org"
	SystemUCUM  = "http://unitsofmeasure.org"
)

var (
	atcSystems = map[string]bool{
		SystemATC:                           true,
		"http://www.whocc.no/atc/":          true,
		"urn:oid:2.16.840.1.113883.6.73":    true, // WHO ATC (HL7 OID)
		"http://www.whocc.no/atc_ddd_index": true,
	}
	icd10Systems = map[string]bool{
		"http://hl7.org/fhir/sid/icd-10":    true,
		"http://hl7.org/fhir/sid/icd-10-cm": true,
		"urn:oid:2.16.840.1.113883.6.3":     true, // ICD-10 (WHO)
		"urn:oid:1.2.246.537.6.1":           true, // ICD-10, Finnish edition (THL)
	}
	// LOINC codes for eGFR (creatinine-based) and serum/plasma creatinine.
	egfrLOINC = map[string]bool{
		"98979-8": true, // CKD-EPI 2021
		"62238-1": true, // CKD-EPI
		"33914-3": true, // MDRD
		"48642-3": true, "48643-1": true, "50044-7": true, "69405-9": true, "77147-7": true,
	}
	creatinineLOINC = map[string]string{ // code -> default unit when none is given
		"2160-0":  "mg/dL",  // mass/volume, serum or plasma
		"38483-4": "mg/dL",  // mass/volume, blood
		"14682-9": "umol/L", // moles/volume, serum or plasma
		"59826-8": "umol/L", // moles/volume, blood
	}
	weightLOINC = map[string]bool{"29463-7": true, "3141-9": true}
)

// Skipped is a resource the adapter did not use, and why. It is reported
// to the caller so nothing is dropped silently.
type Skipped struct {
	Ref    string `json:"ref"`
	Reason string `json:"reason"`
}

// Parsed is the assessment input built from FHIR resources.
type Parsed struct {
	Input risk.Input `json:"input"`
	// PatientRef is "Patient/<id>" when a Patient resource was present.
	PatientRef string    `json:"patient_ref,omitempty"`
	Skipped    []Skipped `json:"skipped,omitempty"`
}

// ParseBundle reads a FHIR R4 Bundle (any type: collection, searchset,
// batch-response, transaction ...) holding Patient, MedicationRequest,
// MedicationStatement, Medication, Observation and Condition resources.
// now is used only to compute the age from Patient.birthDate. Malformed
// JSON or resources give an error of kind invalid naming the entry and
// field; unusable resources are listed in Parsed.Skipped.
func ParseBundle(data []byte, now time.Time) (Parsed, error) {
	c := NewCollector(now)
	if err := c.Add("bundle", data); err != nil {
		return Parsed{}, err
	}
	return c.Result()
}

// Collector gathers resources from several bundles or single resources
// (a CDS Hooks request has draft orders plus prefetched results) and
// builds one Parsed input.
type Collector struct {
	now         time.Time
	patients    []patient
	medications map[string]*medication // "Medication/id" and fullUrl -> Medication
	meds        []medEntry
	obs         []observation
	conditions  []condition
	skipped     []Skipped
	// New, when non-nil, decides whether a MedicationRequest is being
	// started now; by default status "draft" means new.
	New func(ref string, status string) bool
}

type medEntry struct {
	ref       string // "MedicationRequest/1"
	kind      string // resource type
	status    string
	concept   *codeableConcept
	reference string
	contained map[string]*medication
	dosage    []dosage
	start     string
}

// NewCollector returns an empty collector.
func NewCollector(now time.Time) *Collector {
	return &Collector{now: now, medications: map[string]*medication{}}
}

// Add reads one JSON value: a Bundle (entries are added recursively) or a
// single resource. label names the value in error messages (e.g.
// "prefetch.medications"). A JSON null adds nothing.
func (c *Collector) Add(label string, data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil
	}
	return c.add(label, "", data, 0)
}

const maxDepth = 4

func (c *Collector) add(where, fullURL string, data []byte, depth int) error {
	if depth > maxDepth {
		return invalid("%s: bundles nested too deeply", where)
	}
	var h struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return jsonErr(where, err)
	}
	if h.ResourceType == "" {
		return invalid("%s: not a FHIR resource (no resourceType)", where)
	}
	ref := h.ResourceType
	if h.ID != "" {
		ref += "/" + h.ID
	}
	where = fmt.Sprintf("%s (%s)", where, h.ResourceType)
	switch h.ResourceType {
	case "Bundle":
		var b bundle
		if err := json.Unmarshal(data, &b); err != nil {
			return jsonErr(where, err)
		}
		for i, e := range b.Entry {
			if len(bytes.TrimSpace(e.Resource)) == 0 || bytes.Equal(bytes.TrimSpace(e.Resource), []byte("null")) {
				continue // search bundles may carry entries with only a response
			}
			if err := c.add(fmt.Sprintf("%s.entry[%d]", where, i), e.FullURL, e.Resource, depth+1); err != nil {
				return err
			}
		}
	case "Patient":
		var p patient
		if err := json.Unmarshal(data, &p); err != nil {
			return jsonErr(where, err)
		}
		p.ref = ref
		c.patients = append(c.patients, p)
	case "Medication":
		var m medication
		if err := json.Unmarshal(data, &m); err != nil {
			return jsonErr(where, err)
		}
		if m.Code != nil {
			c.medications[ref] = &m
			if fullURL != "" {
				c.medications[fullURL] = &m
			}
		}
	case "MedicationRequest", "MedicationStatement":
		var m medicationUse
		if err := json.Unmarshal(data, &m); err != nil {
			return jsonErr(where, err)
		}
		e := medEntry{ref: ref, kind: h.ResourceType, status: m.Status, concept: m.MedicationCodeableConcept,
			dosage: append(m.DosageInstruction, m.Dosage...), start: startOf(&m)}
		if m.MedicationReference != nil {
			e.reference = m.MedicationReference.Reference
		}
		for i, raw := range m.Contained {
			var cm medication
			if err := json.Unmarshal(raw, &cm); err != nil {
				return jsonErr(fmt.Sprintf("%s.contained[%d]", where, i), err)
			}
			if cm.ResourceType == "Medication" && cm.ID != "" && cm.Code != nil {
				if e.contained == nil {
					e.contained = map[string]*medication{}
				}
				e.contained["#"+cm.ID] = &cm
			}
		}
		c.meds = append(c.meds, e)
	case "Observation":
		var o observation
		if err := json.Unmarshal(data, &o); err != nil {
			return jsonErr(where, err)
		}
		o.ref = ref
		c.obs = append(c.obs, o)
	case "Condition":
		var cd condition
		if err := json.Unmarshal(data, &cd); err != nil {
			return jsonErr(where, err)
		}
		cd.ref = ref
		c.conditions = append(c.conditions, cd)
	case "OperationOutcome":
		c.skip(ref, "operation outcome (e.g. a failed prefetch query)")
	default:
		c.skip(ref, "resource type not used by the medication risk assessment")
	}
	return nil
}

func (c *Collector) skip(ref, reason string) {
	c.skipped = append(c.skipped, Skipped{Ref: ref, Reason: reason})
}

// Result builds the assessment input. It fails (kind invalid) when the
// resources describe more than one patient.
func (c *Collector) Result() (Parsed, error) {
	var out Parsed
	if err := c.patient(&out); err != nil {
		return Parsed{}, err
	}
	c.medicationsInto(&out)
	if !c.now.IsZero() {
		out.Input.Date = c.now.Format("2006-01-02")
	}
	c.observationsInto(&out)
	c.conditionsInto(&out)
	out.Skipped = append(out.Skipped, c.skipped...)
	return out, nil
}

func (c *Collector) patient(out *Parsed) error {
	seen := map[string]bool{}
	var ps []patient
	for _, p := range c.patients {
		if !seen[p.ref] {
			seen[p.ref] = true
			ps = append(ps, p)
		}
	}
	if len(ps) > 1 {
		return invalid("the resources describe %d different patients; send one patient per request", len(ps))
	}
	if len(ps) == 0 {
		return nil
	}
	p := ps[0]
	out.PatientRef = p.ref
	switch p.Gender {
	case "female", "male":
		out.Input.Patient.Sex = p.Gender
	}
	if p.BirthDate != "" {
		age, err := ageAt(p.BirthDate, c.now)
		if err != nil {
			return invalid("%s: birthDate is not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)", p.ref)
		}
		if age >= 0 && age <= 130 {
			out.Input.Patient.Age = &age
		} else {
			c.skip(p.ref, "birthDate gives an implausible age")
		}
	}
	return nil
}

// ageAt computes completed years at now. Partial dates use the earliest
// possible day (January 1st, or the 1st of the month).
func ageAt(birth string, now time.Time) (int, error) {
	var t time.Time
	var err error
	switch len(birth) {
	case 4:
		t, err = time.Parse("2006", birth)
	case 7:
		t, err = time.Parse("2006-01", birth)
	case 10:
		t, err = time.Parse("2006-01-02", birth)
	default:
		return 0, errors.New("bad date length")
	}
	if err != nil {
		return 0, err
	}
	age := now.Year() - t.Year()
	if now.Month() < t.Month() || now.Month() == t.Month() && now.Day() < t.Day() {
		age--
	}
	return age, nil
}

// medicationsInto maps MedicationRequest/MedicationStatement to drugs.
// A statement with the same ATC code as a request is dropped (EHRs often
// send both for the same medicine) and reported as skipped.
func (c *Collector) medicationsInto(out *Parsed) {
	requestATC := map[string]string{}
	type cand struct {
		e     medEntry
		drug  risk.DrugInput
		isNew bool
	}
	var cands []cand
	seen := map[string]bool{}
	for _, e := range c.meds {
		if e.ref != e.kind && seen[e.ref] {
			continue // the same resource from draft orders and prefetch
		}
		seen[e.ref] = true
		if reason, ok := usableStatus(e.kind, e.status); !ok {
			c.skip(e.ref, reason)
			continue
		}
		concept := e.concept
		var med *medication
		if concept == nil && e.reference != "" {
			med = e.contained[e.reference]
			if med == nil {
				med = c.medications[e.reference]
			}
			if med == nil {
				c.skip(e.ref, "medicationReference does not point at a Medication in the request")
				continue
			}
			concept = med.Code
		}
		if concept == nil {
			c.skip(e.ref, "no medicationCodeableConcept or medicationReference")
			continue
		}
		d, reason := drugFrom(concept)
		if reason != "" {
			c.skip(e.ref, reason)
			continue
		}
		d.Ref = e.ref
		if med != nil {
			d.Strength = strengthOf(med)
		}
		if reason := dosageInto(&d, e.dosage); reason != "" {
			c.skip(e.ref+"#dosage", reason)
		}
		d.Start = e.start
		isNew := e.kind == "MedicationRequest" && e.status == "draft"
		if c.New != nil {
			isNew = c.New(e.ref, e.status)
		}
		d.New = isNew
		if e.kind == "MedicationRequest" && d.ATC != "" {
			if _, ok := requestATC[d.ATC]; !ok {
				requestATC[d.ATC] = e.ref
			}
		}
		cands = append(cands, cand{e: e, drug: d, isNew: isNew})
	}
	for _, cd := range cands {
		if cd.e.kind == "MedicationStatement" && cd.drug.ATC != "" {
			if req, ok := requestATC[cd.drug.ATC]; ok {
				c.skip(cd.e.ref, "same ATC code as "+req+" (counted once)")
				continue
			}
		}
		out.Input.Drugs = append(out.Input.Drugs, cd.drug)
	}
}

func usableStatus(kind, status string) (string, bool) {
	switch kind {
	case "MedicationRequest":
		switch status {
		case "active", "on-hold", "draft", "unknown", "":
			return "", true
		}
	case "MedicationStatement":
		switch status {
		case "active", "intended", "on-hold", "unknown", "":
			return "", true
		}
	}
	return "status " + strconv.Quote(status) + " is not a current medication", false
}

// drugFrom picks the ATC code (level 5) and a name from a concept.
func drugFrom(cc *codeableConcept) (risk.DrugInput, string) {
	var d risk.DrugInput
	badATC := false
	for _, cd := range cc.Coding {
		if atcSystems[cd.System] {
			code := risk.NormalizeATC(cd.Code)
			if risk.ValidProductATC(code) {
				d.ATC = code
				break
			}
			badATC = true
		}
	}
	d.Name = strings.TrimSpace(cc.Text)
	if d.Name == "" {
		for _, cd := range cc.Coding {
			if strings.TrimSpace(cd.Display) != "" {
				d.Name = strings.TrimSpace(cd.Display)
				break
			}
		}
	}
	if len(d.Name) > 200 {
		d.Name = d.Name[:200]
	}
	switch {
	case d.ATC != "" || d.Name != "":
		return d, ""
	case badATC:
		return d, "the ATC coding is not a substance (level 5) or product (level 4) code and there is no text"
	}
	return d, "no ATC coding and no text"
}

// observationsInto takes the latest usable eGFR, creatinine and weight.
func (c *Collector) observationsInto(out *Parsed) {
	type pick struct {
		at  time.Time
		val float64
		ok  bool
		ref string
	}
	var egfr, weight pick
	var creat pick
	var creatUnit string
	better := func(p *pick, at time.Time) bool { return !p.ok || at.After(p.at) }
	seen := map[string]bool{}
	for _, o := range c.obs {
		if o.ref != "Observation" && seen[o.ref] {
			continue
		}
		seen[o.ref] = true
		kind, defaultUnit := "", ""
		for _, cd := range o.Code.Coding {
			if cd.System != SystemLOINC {
				continue
			}
			switch {
			case egfrLOINC[cd.Code]:
				kind = "egfr"
			case creatinineLOINC[cd.Code] != "":
				kind, defaultUnit = "creatinine", creatinineLOINC[cd.Code]
			case weightLOINC[cd.Code]:
				kind = "weight"
			}
		}
		if kind == "" {
			c.skip(o.ref, "observation code is not a supported LOINC code (eGFR, creatinine, body weight)")
			continue
		}
		switch o.Status {
		case "final", "amended", "corrected", "preliminary", "":
		default:
			c.skip(o.ref, "status "+strconv.Quote(o.Status)+" is not a usable result")
			continue
		}
		if o.ValueQuantity == nil || o.ValueQuantity.Value == nil || !finite(*o.ValueQuantity.Value) {
			c.skip(o.ref, "no numeric valueQuantity")
			continue
		}
		v := *o.ValueQuantity.Value
		at := o.when()
		switch kind {
		case "egfr":
			if v < 0 || v > 250 {
				c.skip(o.ref, "eGFR value outside 0–250")
				continue
			}
			if better(&egfr, at) {
				egfr = pick{at: at, val: v, ok: true, ref: o.ref}
			}
		case "creatinine":
			unit := o.ValueQuantity.unit()
			if unit == "" {
				unit = defaultUnit
			}
			switch normUnit(unit) {
			case "umol/l", "mg/dl":
			default:
				c.skip(o.ref, "creatinine unit is not umol/L or mg/dL")
				continue
			}
			if better(&creat, at) {
				creat, creatUnit = pick{at: at, val: v, ok: true, ref: o.ref}, unit
			}
		case "weight":
			switch normUnit(o.ValueQuantity.unit()) {
			case "kg", "":
			case "g":
				v /= 1000
			case "[lb_av]", "lb", "lbs":
				v *= 0.45359237
			default:
				c.skip(o.ref, "body weight unit not understood")
				continue
			}
			if better(&weight, at) {
				weight = pick{at: at, val: v, ok: true, ref: o.ref}
			}
		}
	}
	p := &out.Input.Patient
	if egfr.ok {
		v := egfr.val
		p.EGFR = &v
	}
	if creat.ok {
		u := "umol/L"
		if normUnit(creatUnit) == "mg/dl" {
			u = "mg/dL"
		}
		p.Creatinine = &risk.Creatinine{Value: creat.val, Unit: u}
	}
	if weight.ok && weight.val >= 1 && weight.val <= 400 {
		v := math.Round(weight.val*10) / 10
		p.WeightKg = &v
	}
}

func normUnit(u string) string {
	u = strings.ToLower(strings.ReplaceAll(u, " ", ""))
	switch u {
	case "µmol/l", "μmol/l", "umol/l", "micromol/l":
		return "umol/l"
	}
	return u
}

// conditionsInto collects active ICD-10 codes and the history of falls.
func (c *Collector) conditionsInto(out *Parsed) {
	p := &out.Input.Patient
	seenCode := map[string]bool{}
	seen := map[string]bool{}
	for _, cd := range c.conditions {
		if cd.ref != "Condition" && seen[cd.ref] {
			continue
		}
		seen[cd.ref] = true
		if cd.VerificationStatus != nil {
			if s := cd.VerificationStatus.code(); s == "refuted" || s == "entered-in-error" {
				c.skip(cd.ref, "verificationStatus "+s)
				continue
			}
		}
		if cd.ClinicalStatus != nil {
			switch s := cd.ClinicalStatus.code(); s {
			case "active", "recurrence", "relapse", "":
			default:
				c.skip(cd.ref, "clinicalStatus "+s)
				continue
			}
		}
		found := false
		if cd.Code != nil {
			for _, cod := range cd.Code.Coding {
				if !icd10Systems[cod.System] {
					continue
				}
				codes := risk.NormalizeICD10(cod.Code)
				if len(codes) == 0 {
					continue
				}
				found = true
				if !seenCode[cod.Code] && len(p.Conditions) < risk.MaxConditions {
					seenCode[cod.Code] = true
					p.Conditions = append(p.Conditions, cod.Code)
				}
				for _, n := range codes {
					if isFall(n) {
						t := true
						p.Falls = &t
					}
				}
			}
		}
		if !found {
			c.skip(cd.ref, "no ICD-10 coding")
		}
	}
	sort.Strings(p.Conditions)
}

// isFall reports ICD-10 codes recording falls: R29.6 (repeated falls),
// W00–W19 (falls) and Z91.81 (history of falling, ICD-10-CM).
func isFall(dotless string) bool {
	if strings.HasPrefix(dotless, "R296") || strings.HasPrefix(dotless, "Z9181") {
		return true
	}
	if len(dotless) >= 3 && dotless[0] == 'W' {
		n, err := strconv.Atoi(dotless[1:3])
		return err == nil && n <= 19
	}
	return false
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func invalid(format string, args ...any) error {
	return assist.E(assist.KindInvalid, "fhirin.Parse", fmt.Sprintf(format, args...))
}

// jsonErr turns a decoding error into a client-safe message: it names the
// field and the expected type but never echoes the value.
func jsonErr(where string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return assist.E(assist.KindInvalid, "fhirin.Parse", fmt.Sprintf("%s: malformed JSON at byte %d", where, se.Offset), err)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(top level)"
		}
		return assist.E(assist.KindInvalid, "fhirin.Parse",
			fmt.Sprintf("%s: field %s must be a %s, not a JSON %s", where, field, jsonKind(te.Type.Kind().String()), te.Value), err)
	}
	return assist.E(assist.KindInvalid, "fhirin.Parse", where+": malformed JSON", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "float64", "int", "int64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return goKind
}
