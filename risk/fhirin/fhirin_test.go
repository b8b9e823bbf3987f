package fhirin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/soteai/gateway/assist/golden"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/risk"
)

var now = time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func TestParseBundle(t *testing.T) {
	data, err := os.ReadFile("testdata/bundle_80f.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseBundle(data, now)
	if err != nil {
		t.Fatal(err)
	}
	in := p.Input
	if in.Patient.Age == nil || *in.Patient.Age != 80 || in.Patient.Sex != "female" {
		t.Errorf("patient = %+v", in.Patient)
	}
	if in.Patient.EGFR == nil || *in.Patient.EGFR != 35 {
		t.Errorf("eGFR = %v, want the latest (35)", in.Patient.EGFR)
	}
	if c := in.Patient.Creatinine; c == nil || c.Value != 120 || c.Unit != "umol/L" {
		t.Errorf("creatinine = %+v", c)
	}
	if in.Patient.Falls == nil || !*in.Patient.Falls {
		t.Error("falls (R29.6) not detected")
	}
	if got := strings.Join(in.Patient.Conditions, ","); got != "I50.9,R29.6" {
		t.Errorf("conditions = %s", got)
	}
	var atcs []string
	for _, d := range in.Drugs {
		atcs = append(atcs, d.ATC+"|"+d.Name)
	}
	if got := strings.Join(atcs, ";"); got != "B01AA03|Marevan 3 mg tabl;|Burana 400 mg tabletti;A10BA02|Metforem 500 mg;C09AA05|Cardace 5 mg" {
		t.Errorf("drugs = %s", got)
	}
	if !in.Drugs[1].New || in.Drugs[0].New || in.Drugs[1].Ref != "MedicationRequest/mr-ibuprofen" {
		t.Errorf("draft marking: %+v", in.Drugs)
	}
	var skipped []string
	for _, s := range p.Skipped {
		skipped = append(skipped, s.Ref)
	}
	for _, want := range []string{"MedicationRequest/mr-amoxicillin", "MedicationStatement/ms-warfarin", "Condition/pneumonia", "Condition/snomed-only", "AllergyIntolerance/a1"} {
		if !slices.Contains(skipped, want) {
			t.Errorf("%s not reported as skipped: %v", want, skipped)
		}
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	golden(t, "bundle_80f.parsed.golden.json", append(b, '\n'))

	// End to end: the draft ibuprofen meets warfarin, heart failure and eGFR 35.
	kb, err := risk.DefaultKB()
	if err != nil {
		t.Fatal(err)
	}
	res, err := risk.Assess(kb, in)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range res.Flags {
		ids = append(ids, f.RuleID)
	}
	for _, want := range []string{"DDI-BLEED-01", "DD-HF-01", "PIM-NSAID-01", "REN-MET-02", "REN-NSAID-02"} {
		if !slices.Contains(ids, want) {
			t.Errorf("%s not flagged: %v", want, ids)
		}
	}
}

func TestParseBundleErrors(t *testing.T) {
	entry := func(res string) string {
		return `{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + res + `}]}`
	}
	for _, tc := range []struct {
		name, data, want string
	}{
		{"not JSON", `{"resourceType": "Bundle", "entry": [`, "bundle: malformed JSON"},
		{"array", `[1, 2]`, "bundle: field (top level) must be a object"},
		{"no resourceType", `{"type": "collection"}`, "not a FHIR resource"},
		{"entry without resourceType", entry(`{"id": "x"}`), "bundle (Bundle).entry[0]: not a FHIR resource"},
		{"value as string", entry(`{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"98979-8"}]},"valueQuantity":{"value":"35 SECRET"}}`),
			"entry[0] (Observation): field valueQuantity.value must be a number, not a JSON string"},
		{"coding not an array", entry(`{"resourceType":"MedicationRequest","status":"active","medicationCodeableConcept":{"coding":{"code":"B01AA03"}}}`),
			"field medicationCodeableConcept.coding must be a array"},
		{"two patients", `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"a"}},{"resource":{"resourceType":"Patient","id":"b"}}]}`,
			"describe 2 different patients"},
		{"bad birthDate", entry(`{"resourceType":"Patient","id":"a","birthDate":"12.3.1945"}`), "birthDate is not a FHIR date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBundle([]byte(tc.data), now)
			if assist.KindOf(err) != assist.KindInvalid {
				t.Fatalf("err = %v (kind %s), want invalid", err, assist.KindOf(err))
			}
			msg := assist.MessageOf(err)
			if !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not contain %q", msg, tc.want)
			}
			if strings.Contains(msg, "SECRET") {
				t.Errorf("message echoes a value: %q", msg)
			}
		})
	}
}

func TestParseBundleLenient(t *testing.T) {
	// Unknown fields, extensions, entries without resources and unusable
	// resources are tolerated and reported, never fatal.
	data := `{"resourceType":"Bundle","type":"searchset","total":3,"link":[{"relation":"self","url":"x"}],"entry":[
	  {"search":{"mode":"outcome"}},
	  {"resource":{"resourceType":"OperationOutcome","id":"oo","issue":[{"severity":"warning","code":"not-found"}]}},
	  {"resource":{"resourceType":"MedicationStatement","id":"s1","status":"active","extension":[{"url":"x","valueString":"y"}],"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"B01A"}]}}},
	  {"resource":{"resourceType":"MedicationRequest","id":"r1","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"n02be01"}]}}},
	  {"resource":{"resourceType":"MedicationRequest","id":"r2","status":"active","medicationReference":{"reference":"Medication/missing"}}},
	  {"resource":{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2160-0"}]},"valueQuantity":{"value":1.4,"unit":"mg/dL"}}},
	  {"resource":{"resourceType":"Observation","id":"o2","status":"entered-in-error","code":{"coding":[{"system":"http://loinc.org","code":"98979-8"}]},"valueQuantity":{"value":10}}},
	  {"resource":{"resourceType":"Observation","id":"o3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"14682-9"}]},"valueQuantity":{"value":1.2,"unit":"mmol/L","code":"mmol/L"}}}
	]}`
	p, err := ParseBundle([]byte(data), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Input.Drugs) != 1 || p.Input.Drugs[0].ATC != "N02BE01" {
		t.Errorf("drugs = %+v", p.Input.Drugs)
	}
	if c := p.Input.Patient.Creatinine; c == nil || c.Unit != "mg/dL" || c.Value != 1.4 {
		t.Errorf("creatinine = %+v", c)
	}
	if p.Input.Patient.EGFR != nil {
		t.Error("used an entered-in-error eGFR")
	}
	reasons := map[string]string{}
	for _, s := range p.Skipped {
		reasons[s.Ref] = s.Reason
	}
	for ref, want := range map[string]string{
		"OperationOutcome/oo":    "operation outcome",
		"MedicationStatement/s1": "not a substance",
		"MedicationRequest/r2":   "does not point at a Medication",
		"Observation/o2":         "not a usable result",
		"Observation/o3":         "unit is not",
	} {
		if !strings.Contains(reasons[ref], want) {
			t.Errorf("%s: reason %q, want it to mention %q", ref, reasons[ref], want)
		}
	}
}

func TestAgeAt(t *testing.T) {
	for _, tc := range []struct {
		birth string
		want  int
	}{
		{"1945-01-15", 81}, {"1945-01-16", 80}, {"1945-03", 80}, {"1945", 81}, {"2026-01-15", 0},
	} {
		if got, err := ageAt(tc.birth, now); err != nil || got != tc.want {
			t.Errorf("ageAt(%s) = %d, %v; want %d", tc.birth, got, err, tc.want)
		}
	}
}
