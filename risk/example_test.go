package risk_test

import (
	"fmt"

	"github.com/soteai/gateway/risk"
)

func ExampleAssess() {
	kb, err := risk.DefaultKB()
	if err != nil {
		panic(err)
	}
	age, egfr, falls := 78, 55.0, false
	res, err := risk.Assess(kb, risk.Input{
		Drugs: []risk.DrugInput{{Name: "Eliquis 5 mg"}, {Name: "Burana 400 mg"}},
		Patient: risk.Patient{
			Age: &age, EGFR: &egfr, Falls: &falls,
			Conditions: []string{"I48.9"},
		},
	})
	if err != nil {
		panic(err)
	}
	for _, f := range res.Flags {
		fmt.Println(f.Severity, f.RuleID, f.Title.EN)
	}
	// Output:
	// high DDI-BLEED-01 Bleeding risk: anticoagulant + NSAID
	// moderate PIM-NSAID-01 NSAID in an older person without gastroprotection
}
