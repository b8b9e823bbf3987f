package fhirin

import (
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/risk"
)

// TestDosage reads FHIR R4 Dosage variants end to end: bundle → input →
// the engine's daily dose.
func TestDosage(t *testing.T) {
	kb, err := risk.DefaultKB()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		med       string // medication[x] JSON
		dosage    string // dosageInstruction JSON array
		low, high float64
		asNeeded  bool
		problem   string // substring of the reading's problem; "" = resolved
	}{
		{"doseQuantity mg, 2 per day", atc("A10BA02"), `[{"timing":{"repeat":{"frequency":2,"period":1,"periodUnit":"d"}},"doseAndRate":[{"doseQuantity":{"value":500,"unit":"mg","code":"mg"}}]}]`, 1000, 1000, false, ""},
		{"every 8 hours", atc("N02BE01"), `[{"timing":{"repeat":{"frequency":1,"period":8,"periodUnit":"h"}},"doseAndRate":[{"doseQuantity":{"value":1,"unit":"g","code":"g"}}]}]`, 3000, 3000, false, ""},
		{"weekly", atc("L04AX03"), `[{"timing":{"repeat":{"frequency":1,"period":1,"periodUnit":"wk"}},"doseAndRate":[{"doseQuantity":{"value":14,"unit":"mg","code":"mg"}}]}]`, 2, 2, false, ""},
		{"frequencyMax", atc("M01AE01"), `[{"asNeededBoolean":true,"timing":{"repeat":{"frequency":1,"frequencyMax":3,"period":1,"periodUnit":"d"}},"doseAndRate":[{"doseQuantity":{"value":400,"unit":"mg","code":"mg"}}]}]`, 400, 1200, true, ""},
		{"doseRange", atc("N02BE01"), `[{"timing":{"repeat":{"frequency":3,"period":1,"periodUnit":"d"}},"doseAndRate":[{"doseRange":{"low":{"value":500,"code":"mg"},"high":{"value":1000,"code":"mg"}}}]}]`, 1500, 3000, false, ""},
		{"when slots", atc("A10BA02"), `[{"timing":{"repeat":{"when":["MORN","EVE"]}},"doseAndRate":[{"doseQuantity":{"value":850,"unit":"mg","code":"mg"}}]}]`, 1700, 1700, false, ""},
		{"timing code BID", atc("B01AF02"), `[{"timing":{"code":{"coding":[{"code":"BID"}]}},"doseAndRate":[{"doseQuantity":{"value":5,"unit":"mg","code":"mg"}}]}]`, 10, 10, false, ""},
		{"tablets with strength in the text", `"medicationCodeableConcept":{"text":"Lyrica 75 mg"}`, `[{"timing":{"repeat":{"frequency":2,"period":1,"periodUnit":"d"}},"doseAndRate":[{"doseQuantity":{"value":1,"unit":"kapseli","code":"{capsule}"}}]}]`, 150, 150, false, ""},
		{"concurrent elements summed", atc("N03AX12") + `,"contained":[]`, `[{"sequence":1,"timing":{"repeat":{"when":["MORN"]}},"doseAndRate":[{"doseQuantity":{"value":600,"code":"mg"}}]},{"sequence":1,"timing":{"repeat":{"when":["HS"]}},"doseAndRate":[{"doseQuantity":{"value":300,"code":"mg"}}]}]`, 900, 900, false, ""},
		{"text only, Finnish", atc("A10BA02"), `[{"text":"1 g x 2"}]`, 2000, 2000, false, ""},
		{"text only, Swedish as needed", atc("N02BE01"), `[{"text":"1 g vid behov, högst 3 g/dygn"}]`, 3000, 3000, true, ""},
		{"asNeededCodeableConcept", atc("N02BE01"), `[{"asNeededCodeableConcept":{"text":"kipu"},"text":"1 g tarvittaessa"}]`, 0, 0, true, "as-needed"},
		{"no timing", atc("A10BA02"), `[{"doseAndRate":[{"doseQuantity":{"value":500,"code":"mg"}}]}]`, 0, 0, false, "no frequency"},
		{"unknown unit", atc("A10BA02"), `[{"timing":{"repeat":{"frequency":2,"period":1,"periodUnit":"d"}},"doseAndRate":[{"doseQuantity":{"value":5,"code":"mL"}}]}]`, 0, 0, false, "skipped"},
		{"sequential regimen text", atc("N05AH04"), `[{"sequence":1,"text":"25 mg x 1"},{"sequence":2,"text":"50 mg x 1"}]`, 0, 0, false, "ambiguous"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"MedicationRequest","id":"m1","status":"active",` +
				tc.med + `,"dosageInstruction":` + tc.dosage + `}}]}`
			p, err := ParseBundle([]byte(b), time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			res, err := risk.Assess(kb, p.Input)
			if err != nil {
				t.Fatal(err)
			}
			r := res.Drugs[0].Dose
			if tc.problem == "skipped" {
				if r != nil || len(p.Skipped) != 1 || p.Skipped[0].Ref != "MedicationRequest/m1#dosage" {
					t.Fatalf("reading %+v, skipped %+v; want the dosage reported as skipped", r, p.Skipped)
				}
				return
			}
			if r == nil {
				t.Fatalf("no dose reading; input %+v", p.Input.Drugs[0])
			}
			if tc.problem != "" {
				if r.Daily != nil || !strings.Contains(r.Problem, tc.problem) {
					t.Fatalf("reading %+v, want problem %q", r, tc.problem)
				}
			} else if r.Daily == nil || r.Daily.Low != tc.low || r.Daily.High != tc.high || r.Daily.Unit != "mg" {
				t.Fatalf("reading %+v (daily %+v), want %v–%v mg", r, r.Daily, tc.low, tc.high)
			}
			if r.AsNeeded == nil || *r.AsNeeded != tc.asNeeded {
				t.Errorf("as_needed = %v, want %v", r.AsNeeded, tc.asNeeded)
			}
		})
	}
}

func atc(code string) string {
	return `"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"` + code + `"}]}`
}
