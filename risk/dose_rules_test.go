package risk

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// doseBandCase checks one side of a dose band edge: a kidney value, a
// dosing text and whether the rule fires.
type doseBandCase struct {
	rule   string
	atc    string
	kidney float64 // eGFR given; CrCl rules fall back to it
	dose   string  // dose_text; "" means no dose given
	conds  []string
	fires  bool
}

// doseBandCases walk every dose band on both sides of its kidney edges and
// of its dose limit (SmPC 4.2 figures, as in kb/rules/20_renal.yaml).
var doseBandCases = []doseBandCase{
	// Metformin: eGFR 30–44 at most 1000 mg/day, 45–59 at most 2000 mg/day.
	{"REN-MET-02", "A10BA02", 30, "500 mg x 2", nil, false},
	{"REN-MET-02", "A10BA02", 30, "1 g x 2", nil, true},
	{"REN-MET-02", "A10BA02", 44, "500 mg x 3", nil, true},
	{"REN-MET-02", "A10BA02", 45, "500 mg x 3", nil, false},
	{"REN-MET-02", "A10BA02", 29, "1 g x 2", nil, false}, // REN-MET-01 instead
	{"REN-MET-03", "A10BA02", 45, "1 g x 2", nil, false},
	{"REN-MET-03", "A10BA02", 45, "1 g x 3", nil, true},
	{"REN-MET-03", "A10BA02", 59, "850 mg x 3", nil, true},
	{"REN-MET-03", "A10BA02", 60, "1 g x 3", nil, false},
	// Apixaban in AF: CrCl 15–29 at most 2.5 mg x 2.
	{"REN-APX-02", "B01AF02", 15, "2,5 mg x 2", []string{"I48.9"}, false},
	{"REN-APX-02", "B01AF02", 15, "5 mg x 2", []string{"I48.9"}, true},
	{"REN-APX-02", "B01AF02", 29, "5 mg x 2", []string{"I48.9"}, true},
	{"REN-APX-02", "B01AF02", 30, "5 mg x 2", []string{"I48.9"}, false},
	{"REN-APX-02", "B01AF02", 20, "5 mg x 2", []string{"I26.9"}, false}, // not AF
	// Rivaroxaban in AF: CrCl 15–49 at most 15 mg/day.
	{"REN-RIV-02", "B01AF01", 15, "15 mg x 1", []string{"I48.0"}, false},
	{"REN-RIV-02", "B01AF01", 15, "20 mg x 1", []string{"I48.0"}, true},
	{"REN-RIV-02", "B01AF01", 49, "20 mg x 1", []string{"I48.0"}, true},
	{"REN-RIV-02", "B01AF01", 50, "20 mg x 1", []string{"I48.0"}, false},
	// Dabigatran: CrCl 30–50, consider 110 mg x 2.
	{"REN-DAB-02", "B01AE07", 30, "110 mg x 2", nil, false},
	{"REN-DAB-02", "B01AE07", 30, "150 mg x 2", nil, true},
	{"REN-DAB-02", "B01AE07", 50, "150 mg x 2", nil, true},
	{"REN-DAB-02", "B01AE07", 51, "150 mg x 2", nil, false},
	// Edoxaban: CrCl 15–50 at most 30 mg/day.
	{"REN-EDX-02", "B01AF03", 15, "30 mg x 1", nil, false},
	{"REN-EDX-02", "B01AF03", 15, "60 mg x 1", nil, true},
	{"REN-EDX-02", "B01AF03", 50, "60 mg x 1", nil, true},
	{"REN-EDX-02", "B01AF03", 51, "60 mg x 1", nil, false},
	// Tramadol: CrCl < 30 at most 200 mg/day.
	{"REN-TRAM-01", "N02AX02", 29, "100 mg x 2", nil, false},
	{"REN-TRAM-01", "N02AX02", 29, "50 mg x 5", nil, true},
	{"REN-TRAM-01", "N02AX02", 30, "100 mg x 3", nil, false},
	// Gabapentin: < 15: 300; 15–29: 600; 30–49: 900; 50–79: 1800 mg/day.
	{"REN-GBP-01", "N03AX12", 14, "300 mg x 1", nil, false},
	{"REN-GBP-01", "N03AX12", 14, "300 mg x 2", nil, true},
	{"REN-GBP-02", "N03AX12", 15, "300 mg x 2", nil, false},
	{"REN-GBP-02", "N03AX12", 15, "300 mg x 3", nil, true},
	{"REN-GBP-02", "N03AX12", 29, "300 mg x 3", nil, true},
	{"REN-GBP-03", "N03AX12", 30, "300 mg x 3", nil, false},
	{"REN-GBP-03", "N03AX12", 30, "400 mg x 3", nil, true},
	{"REN-GBP-03", "N03AX12", 49, "400 mg x 3", nil, true},
	{"REN-GBP-04", "N03AX12", 50, "600 mg x 3", nil, false},
	{"REN-GBP-04", "N03AX12", 50, "800 mg x 3", nil, true},
	{"REN-GBP-04", "N03AX12", 79, "800 mg x 3", nil, true},
	{"REN-GBP-04", "N03AX12", 80, "800 mg x 3", nil, false},
	// Pregabalin: < 15: 75; 15–29: 150; 30–59: 300 mg/day.
	{"REN-PGB-01", "N03AX16", 14, "75 mg x 1", nil, false},
	{"REN-PGB-01", "N03AX16", 14, "75 mg x 2", nil, true},
	{"REN-PGB-02", "N03AX16", 15, "75 mg x 2", nil, false},
	{"REN-PGB-02", "N03AX16", 15, "150 mg x 2", nil, true},
	{"REN-PGB-02", "N03AX16", 29, "150 mg x 2", nil, true},
	{"REN-PGB-03", "N03AX16", 30, "150 mg x 2", nil, false},
	{"REN-PGB-03", "N03AX16", 30, "150 mg x 3", nil, true},
	{"REN-PGB-03", "N03AX16", 59, "150 mg x 3", nil, true},
	{"REN-PGB-03", "N03AX16", 60, "300 mg x 2", nil, false},
	// Sitagliptin: eGFR 30–44 at most 50 mg, < 30 at most 25 mg.
	{"REN-SITA-01", "A10BH01", 30, "50 mg x 1", nil, false},
	{"REN-SITA-01", "A10BH01", 30, "100 mg x 1", nil, true},
	{"REN-SITA-01", "A10BH01", 44, "100 mg x 1", nil, true},
	{"REN-SITA-01", "A10BH01", 45, "100 mg x 1", nil, false},
	{"REN-SITA-02", "A10BH01", 29, "25 mg x 1", nil, false},
	{"REN-SITA-02", "A10BH01", 29, "50 mg x 1", nil, true},
	// Levetiracetam: < 30: 1000; 30–49: 1500; 50–79: 2000 mg/day.
	{"REN-LEV-01", "N03AX14", 29, "500 mg x 2", nil, false},
	{"REN-LEV-01", "N03AX14", 29, "750 mg x 2", nil, true},
	{"REN-LEV-02", "N03AX14", 30, "750 mg x 2", nil, false},
	{"REN-LEV-02", "N03AX14", 49, "1000 mg x 2", nil, true},
	{"REN-LEV-03", "N03AX14", 50, "1000 mg x 2", nil, false},
	{"REN-LEV-03", "N03AX14", 79, "1500 mg x 2", nil, true},
	{"REN-LEV-03", "N03AX14", 80, "1500 mg x 2", nil, false},
	// Digoxin: eGFR < 30 at most 0.125 mg/day (STOPP v3 E).
	{"REN-DIG-01", "C01AA05", 29, "125 mikrog x 1", nil, false},
	{"REN-DIG-01", "C01AA05", 29, "0,25 mg x 1", nil, true},
	{"REN-DIG-01", "C01AA05", 30, "0,25 mg x 1", nil, false},
	// Aspirin after a peptic ulcer (Beers 2023 Table 3): above 325 mg/day.
	{"DD-PU-02", "N02BA01", 90, "325 mg x 1", []string{"K25.7"}, false},
	{"DD-PU-02", "N02BA01", 90, "500 mg x 1", []string{"K25.7"}, true},
	// Older adults (age 50 in this table: these rules need 65 or 80; see rules_test.go).
}

func TestDoseBandEdges(t *testing.T) {
	kb := testKB(t)
	for _, tc := range doseBandCases {
		name := fmt.Sprintf("%s/egfr=%v/%s", tc.rule, tc.kidney, tc.dose)
		t.Run(name, func(t *testing.T) {
			conds := tc.conds
			if conds == nil {
				conds = []string{"I48.9"}
			}
			p := pat(50, tc.kidney, conds...)
			p.WeightKg = ptr(80.0) // the weight-based dose rules are then decided (no)
			in := Input{Drugs: []DrugInput{{ATC: tc.atc, DoseText: tc.dose}}, Patient: p}
			res, err := Assess(kb, in)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Contains(flagIDs(res), tc.rule)
			if got != tc.fires {
				t.Fatalf("%s fired = %v, want %v (dose read: %+v; flags %v)", tc.rule, got, tc.fires, res.Drugs[0].Dose, flagIDs(res))
			}
			for _, n := range res.Notes {
				t.Errorf("unexpected note %s for %v", n.Reason, n.Rules)
			}
			if got {
				for _, f := range res.Flags {
					if f.RuleID == tc.rule && (f.Basis.Dose == nil || f.Basis.Dose.Daily.High <= f.Basis.Dose.Above || strings.HasPrefix(f.RuleID, "REN-") && f.Basis.Kidney == nil) {
						t.Errorf("flag basis lacks the dose above the limit or the kidney value: %+v", f.Basis)
					}
				}
			}
		})
	}
}

// TestDoseRuleNeedsTheDose: inside the kidney band without a dose, each
// dose rule is "not assessable: needs the dose", never a flag or silence.
func TestDoseRuleNeedsTheDose(t *testing.T) {
	kb := testKB(t)
	seen := map[string]bool{}
	for _, tc := range doseBandCases {
		if !tc.fires || seen[tc.rule] {
			continue
		}
		seen[tc.rule] = true
		t.Run(tc.rule, func(t *testing.T) {
			conds := tc.conds
			if conds == nil {
				conds = []string{"I48.9"}
			}
			for _, d := range []DrugInput{{ATC: tc.atc}, {ATC: tc.atc, DoseText: "ohjeen mukaan"}} {
				p := pat(50, tc.kidney, conds...)
				p.WeightKg = ptr(80.0)
				res, err := Assess(kb, Input{Drugs: []DrugInput{d}, Patient: p})
				if err != nil {
					t.Fatal(err)
				}
				if slices.Contains(flagIDs(res), tc.rule) {
					t.Fatalf("%s fired without a dose", tc.rule)
				}
				found := false
				for _, n := range res.Notes {
					if n.Reason == NoteMissingDose && slices.Contains(n.Rules, tc.rule) {
						found = true
					}
				}
				if !found {
					t.Errorf("no missing_dose note for %s (dose_text %q): %+v", tc.rule, d.DoseText, res.Notes)
				}
			}
		})
	}
	for _, r := range kb.Rules() {
		if r.Use != nil && r.Use.DailyAbove != nil && !seen[r.ID] && r.When.AgeMin == nil && r.Category != CategoryDosing {
			t.Errorf("dose rule %s has no firing band-edge case", r.ID)
		}
	}
}
