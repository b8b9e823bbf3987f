package grounding_test

import (
	"fmt"

	"github.com/soteai/gateway/assist/summary/grounding"
	"github.com/soteai/gateway/risk"
)

func ExampleChecker_Check() {
	kb, err := risk.DefaultKB()
	if err != nil {
		panic(err)
	}
	c := grounding.New(kb)
	transcript := []grounding.Source{
		{ID: "t1", Speaker: "clinician", Text: "Any chest pain?"},
		{ID: "t2", Speaker: "patient", Text: "No. I take Marevan, three milligrams in the evening."},
	}
	draft := []grounding.Sentence{
		{ID: "s1", Text: "Denies chest pain. Warfarin 3 mg at night."},
		{ID: "s2", Text: "Reports chest pain; warfarin 5 mg.", Cites: []string{"t2"}},
	}
	res, err := c.Check("en", transcript, draft)
	if err != nil {
		panic(err)
	}
	for _, r := range res {
		fmt.Println(r.ID, r.Supported, r.Cites)
		for _, f := range r.Flags {
			fmt.Printf("  %s %q: %s\n", f.Type, f.Text, f.Evidence)
		}
	}
	// Output:
	// s1 true [t1 t2]
	// s2 false [t2]
	//   dose "5 mg": sources say three milligrams
	//   negation "chest pain": sources deny it
}
