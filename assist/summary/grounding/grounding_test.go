package grounding

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/soteai/gateway/risk"
)

var (
	checkerOnce sync.Once
	checker     *Checker
)

// testChecker returns a checker over the embedded risk knowledge base.
func testChecker(t testing.TB) *Checker {
	t.Helper()
	checkerOnce.Do(func() {
		kb, err := risk.DefaultKB()
		if err != nil {
			panic(err)
		}
		checker = New(kb)
	})
	return checker
}

// turns makes sources from "D: text" / "P: text" lines, ids t1, t2, …
func turns(lines ...string) []Source {
	out := make([]Source, len(lines))
	for i, l := range lines {
		sp, text, ok := strings.Cut(l, ": ")
		if !ok || len(sp) > 3 {
			sp, text = "", l
		}
		out[i] = Source{ID: "t" + itoa(i+1), Speaker: sp, Text: text}
	}
	return out
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

type flagCase struct {
	name  string
	lang  string
	src   []string
	sent  string
	cites []string
	want  []FlagType // nil: supported; empty: unsupported, any type
}

func runFlagCases(t *testing.T, cases []flagCase) {
	t.Helper()
	c := testChecker(t)
	for _, tc := range cases {
		t.Run(tc.lang+"/"+tc.name, func(t *testing.T) {
			res, err := c.Check(tc.lang, turns(tc.src...), []Sentence{{ID: "s1", Text: tc.sent, Cites: tc.cites}})
			if err != nil {
				t.Fatal(err)
			}
			r := res[0]
			var got []FlagType
			for _, f := range r.Flags {
				got = append(got, f.Type)
			}
			if tc.want == nil {
				if !r.Supported {
					t.Errorf("%q: want supported, got flags %+v", tc.sent, r.Flags)
				}
				return
			}
			if r.Supported {
				t.Errorf("%q: want flags %v, got supported", tc.sent, tc.want)
				return
			}
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("%q: want a %s flag, got %+v", tc.sent, w, r.Flags)
				}
			}
			for _, f := range r.Flags {
				if f.Evidence == "" {
					t.Errorf("flag %+v has no evidence", f)
				}
			}
		})
	}
}
