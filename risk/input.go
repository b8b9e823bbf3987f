package risk

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/soteai/gateway/assist"
)

// Limits on one assessment request.
const (
	MaxDrugs      = 100
	MaxConditions = 300
	maxNameLen    = 200
)

// Input is one assessment request: a medication list and patient facts.
// It is the body of POST /v1/risk/assess and the target of the FHIR and
// CDS Hooks adapters.
type Input struct {
	Drugs   []DrugInput `json:"drugs"`
	Patient Patient     `json:"patient"`
	// Date is the day of the assessment (YYYY-MM-DD); with a drug's Start
	// it gives how long the drug has been used. The engine reads no clock.
	Date string `json:"date,omitempty"`
}

// DrugInput names one medicine: by ATC code (level 5; level 4 is accepted
// for combination products classified only there, e.g. A12AX), or by name (Finnish or
// English generic name, or a brand name used in Finland), or both, in
// which case the code wins and a mismatch is noted.
type DrugInput struct {
	ATC  string `json:"atc,omitempty"`
	Name string `json:"name,omitempty"`
	// New marks a medicine being started now (a draft order); some rules
	// only concern starting a drug.
	New bool `json:"new,omitempty"`
	// Ref is the caller's reference, e.g. "MedicationRequest/123"; it is
	// echoed back so cards can point at the order.
	Ref string `json:"ref,omitempty"`

	// Dose is the amount per administration: a mass ("mg", "g", "ug"),
	// a count of tablets or capsules ("tabl", with Strength or a strength
	// in Name), or international units ("IU"). High makes it a range.
	Dose *Amount `json:"dose,omitempty"`
	// Frequency is the number of administrations per day (1/7 for once
	// a week); FrequencyMax makes it a range ("1–3 times a day").
	Frequency    *float64 `json:"frequency,omitempty"`
	FrequencyMax *float64 `json:"frequency_max,omitempty"`
	// AsNeeded is true for as-needed (PRN) use, false for regular use.
	AsNeeded *bool `json:"as_needed,omitempty"`
	// Strength is the product strength per tablet or capsule; when absent
	// it is read from Name ("Metformin 500 mg").
	Strength *Amount `json:"strength,omitempty"`
	// DoseText is the instruction as written on the prescription, in
	// Finnish, Swedish or English ("1 g x 2", "1 tabl. 3 ggr/dag",
	// "tarvittaessa"); it is read when Dose is absent.
	DoseText string `json:"dose_text,omitempty"`
	// Start is the day the drug was started (YYYY-MM-DD); Duration the
	// intended or elapsed length of use. Either tells long-term use.
	Start    string    `json:"start,omitempty"`
	Duration *Duration `json:"duration,omitempty"`
}

// Amount is a dose or a strength.
type Amount struct {
	Value float64  `json:"value"`
	High  *float64 `json:"high,omitempty"`
	Unit  string   `json:"unit"`
}

// Duration is a length of use: unit "d", "wk", "mo" or "a" (FHIR/UCUM
// style; "day(s)", "week(s)", "month(s)", "year(s)" are accepted).
type Duration struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// days converts a duration to days (a month is 30 days, a year 365).
func (d Duration) days() (float64, bool) {
	per := map[string]float64{"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7,
		"mo": 30, "month": 30, "months": 30, "a": 365, "year": 365, "years": 365}[strings.ToLower(strings.TrimSpace(d.Unit))]
	if per == 0 || !finite(d.Value) || d.Value < 0 {
		return 0, false
	}
	return d.Value * per, true
}

// Patient holds the facts rules depend on. Every field is optional; a rule
// that needs a missing fact yields a "not assessable" note, never silence.
type Patient struct {
	Age      *int     `json:"age,omitempty"`       // years
	Sex      string   `json:"sex,omitempty"`       // "female" or "male"
	WeightKg *float64 `json:"weight_kg,omitempty"` // for Cockcroft–Gault
	// EGFR is the estimated GFR in ml/min/1.73 m². When absent it is
	// computed from Creatinine, Age and Sex with CKD-EPI 2021.
	EGFR       *float64    `json:"egfr,omitempty"`
	Creatinine *Creatinine `json:"creatinine,omitempty"`
	// Conditions are ICD-10 codes (e.g. "I50.9", "G30.1+F00.1*").
	Conditions []string `json:"conditions,omitempty"`
	// Falls is the history of falls in the past year, when known.
	Falls *bool `json:"falls,omitempty"`
}

// Creatinine is a serum/plasma creatinine result.
type Creatinine struct {
	Value float64 `json:"value"`
	// Unit is "umol/L" (as Finnish laboratories report it; "µmol/l" is
	// accepted) or "mg/dL".
	Unit string `json:"unit"`
}

// umolL returns the value in µmol/l, or false for an unknown unit.
func (c Creatinine) umolL() (float64, bool) {
	switch u := strings.ToLower(strings.ReplaceAll(c.Unit, " ", "")); u {
	case "umol/l", "µmol/l", "μmol/l", "micromol/l":
		return c.Value, true
	case "mg/dl":
		return c.Value * creatinineUmolPerMg, true
	}
	return 0, false
}

// Validate checks shape and plausible ranges. Errors are of kind invalid
// and name the field, never echoing free text.
func (in *Input) Validate() error {
	const op = "risk.Validate"
	bad := func(format string, args ...any) error {
		return assist.E(assist.KindInvalid, op, fmt.Sprintf(format, args...))
	}
	if len(in.Drugs) == 0 {
		return bad("drugs: at least one medicine is required")
	}
	if len(in.Drugs) > MaxDrugs {
		return bad("drugs: %d medicines; at most %d per request", len(in.Drugs), MaxDrugs)
	}
	for i, d := range in.Drugs {
		atc := NormalizeATC(d.ATC)
		switch {
		case atc == "" && strings.TrimSpace(d.Name) == "":
			return bad("drugs[%d]: give an atc code or a name", i)
		case atc != "" && !ValidProductATC(atc):
			if ValidATC(atc) {
				return bad("drugs[%d].atc: %q is a group code; give the substance code (ATC level 5, or level 4 for combination products)", i, atc)
			}
			return bad("drugs[%d].atc: not a well-formed ATC code (expected e.g. B01AA03)", i)
		case len(d.Name) > maxNameLen:
			return bad("drugs[%d].name: longer than %d characters", i, maxNameLen)
		case len(d.Ref) > maxNameLen:
			return bad("drugs[%d].ref: longer than %d characters", i, maxNameLen)
		case len(d.DoseText) > maxNameLen:
			return bad("drugs[%d].dose_text: longer than %d characters", i, maxNameLen)
		}
		for _, a := range []struct {
			field string
			v     *Amount
		}{{"dose", d.Dose}, {"strength", d.Strength}} {
			if a.v == nil {
				continue
			}
			if !(finite(a.v.Value) && a.v.Value > 0 && a.v.Value < 1e6) || a.v.High != nil && !(finite(*a.v.High) && *a.v.High >= a.v.Value && *a.v.High < 1e6) {
				return bad("drugs[%d].%s: value must be positive (and high, when given, at least value)", i, a.field)
			}
			if _, ok := doseUnits[foldWord(a.v.Unit)]; !ok {
				return bad("drugs[%d].%s.unit: not a dose unit (mg, g, ug, tabl, caps, IU)", i, a.field)
			}
		}
		for _, f := range []struct {
			field string
			v     *float64
		}{{"frequency", d.Frequency}, {"frequency_max", d.FrequencyMax}} {
			if f.v != nil && !(finite(*f.v) && *f.v > 0 && *f.v <= 48) {
				return bad("drugs[%d].%s: administrations per day must be above 0 and at most 48", i, f.field)
			}
		}
		if d.Frequency != nil && d.FrequencyMax != nil && *d.FrequencyMax < *d.Frequency {
			return bad("drugs[%d].frequency_max: smaller than frequency", i)
		}
		if d.Start != "" && !validDate(d.Start) {
			return bad("drugs[%d].start: not a date (YYYY-MM-DD)", i)
		}
		if d.Duration != nil {
			if _, ok := d.Duration.days(); !ok {
				return bad("drugs[%d].duration: value must be non-negative, unit d, wk, mo or a", i)
			}
		}
	}
	if in.Date != "" && !validDate(in.Date) {
		return bad("date: not a date (YYYY-MM-DD)")
	}
	p := in.Patient
	if p.Age != nil && (*p.Age < 0 || *p.Age > 130) {
		return bad("patient.age: must be between 0 and 130 years")
	}
	switch strings.ToLower(p.Sex) {
	case "", "female", "male":
	default:
		return bad("patient.sex: must be female or male (or omitted)")
	}
	if p.WeightKg != nil && !(finite(*p.WeightKg) && *p.WeightKg >= 1 && *p.WeightKg <= 400) {
		return bad("patient.weight_kg: must be between 1 and 400")
	}
	if p.EGFR != nil && !(finite(*p.EGFR) && *p.EGFR >= 0 && *p.EGFR <= 250) {
		return bad("patient.egfr: must be between 0 and 250 ml/min/1.73 m²")
	}
	if c := p.Creatinine; c != nil {
		v, ok := c.umolL()
		if !ok {
			return bad("patient.creatinine.unit: must be umol/L or mg/dL")
		}
		if !(finite(v) && v >= 10 && v <= 3000) {
			return bad("patient.creatinine.value: outside the plausible range (10–3000 µmol/l, 0.1–34 mg/dl)")
		}
	}
	if len(p.Conditions) > MaxConditions {
		return bad("patient.conditions: at most %d codes", MaxConditions)
	}
	for i, c := range p.Conditions {
		if len(c) > 40 || NormalizeICD10(c) == nil {
			return bad("patient.conditions[%d]: not a well-formed ICD-10 code (expected e.g. I50.9)", i)
		}
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func validDate(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}
