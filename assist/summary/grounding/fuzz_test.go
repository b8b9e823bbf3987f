package grounding

import (
	"testing"
	"time"
)

// FuzzCheck feeds arbitrary texts to the checker: it must never panic and
// must answer every sentence.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "1x2", "3.2.", "x", "-", "/", "1/2", "Ei.", "No,", "2,5 mg", "07/29/2008", "q8h", "1+0+1", "tål inte", "M R I",
		"Allergia:", "oik. vas.", "120/80", "one fifty-two", "kolmisen", "päänsärky", "BP: none", "?", "a-", "x2/vrk", "Marevan 3 mg x1 ma-to"} {
		f.Add(s, s+" kipu", "fi")
		f.Add(s, "Any pain? "+s, "en")
		f.Add(s+" ont", s, "sv")
	}
	c := testChecker(f)
	f.Fuzz(func(t *testing.T, src, sent, lang string) {
		if !validLang(lang) {
			lang = "fi"
		}
		var res []Result
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			res, err = c.Check(lang, []Source{{ID: "a", Speaker: "P", Text: src}, {ID: "b", Text: sent + "?"}},
				[]Sentence{{ID: "s", Text: sent}, {ID: "t", Text: src, Cites: []string{"a"}}})
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("no answer within 5s for %q / %q", src, sent)
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 {
			t.Fatalf("%d results", len(res))
		}
	})
}
