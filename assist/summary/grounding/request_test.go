package grounding

import (
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
)

func TestRequestValidate(t *testing.T) {
	turn := []Source{{ID: "t1", Speaker: "P", Text: "I have a cough."}}
	sent := []Sentence{{ID: "s1", Text: "Cough."}}
	long := strings.Repeat("a", 30)
	small := Limits{MaxSources: 2, MaxSentences: 2, MaxTextChars: 20, MaxChars: 40}
	cases := []struct {
		name string
		r    Request
		kind assist.Kind // "" valid
		msg  string
	}{
		{"valid", Request{Transcript: turn, Draft: sent, Lang: "en"}, "", ""},
		{"no lang", Request{Transcript: turn, Draft: sent}, assist.KindInvalid, "lang"},
		{"unknown lang", Request{Transcript: turn, Draft: sent, Lang: "de"}, assist.KindInvalid, "unknown lang"},
		{"empty transcript", Request{Draft: sent, Lang: "fi"}, assist.KindInvalid, "transcript"},
		{"empty draft", Request{Transcript: turn, Lang: "fi"}, assist.KindInvalid, "draft"},
		{"duplicate turn", Request{Transcript: append(turn, turn[0]), Draft: sent, Lang: "sv"}, assist.KindInvalid, "duplicate turn id"},
		{"duplicate sentence", Request{Transcript: turn, Draft: append(sent, sent[0]), Lang: "sv"}, assist.KindInvalid, "duplicate sentence id"},
		{"turn without id", Request{Transcript: []Source{{Text: "x"}}, Draft: sent, Lang: "en"}, assist.KindInvalid, "no id"},
		{"unknown cite", Request{Transcript: turn, Draft: []Sentence{{ID: "s1", Text: "x", Cites: []string{"t9"}}}, Lang: "en"}, assist.KindInvalid, "not a turn id"},
		{"too many turns", Request{Transcript: []Source{{ID: "a"}, {ID: "b"}, {ID: "c"}}, Draft: sent, Lang: "en"}, assist.KindTooLarge, "turns"},
		{"too long turn", Request{Transcript: []Source{{ID: "a", Text: long}}, Draft: sent, Lang: "en"}, assist.KindTooLarge, "characters"},
		{"too much text", Request{Transcript: []Source{{ID: "a", Text: long[:19]}, {ID: "b", Text: long[:19]}}, Draft: []Sentence{{ID: "s", Text: long[:19]}}, Lang: "en"}, assist.KindTooLarge, "together"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate(small)
			if tc.kind == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if assist.KindOf(err) != tc.kind || !strings.Contains(assist.MessageOf(err), tc.msg) {
				t.Fatalf("want %s containing %q, got %v", tc.kind, tc.msg, err)
			}
		})
	}
}

func TestCheckRequest(t *testing.T) {
	c := testChecker(t)
	res, err := c.CheckRequest(Request{Lang: "fi",
		Transcript: []Source{{ID: "t1", Speaker: "P", Text: "Otan Marevania kolme milligrammaa illalla."}},
		Draft:      []Sentence{{ID: "s1", Text: "Varfariini 3 mg illalla."}, {ID: "s2", Text: "Varfariini 5 mg."}},
	}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Supported != 1 || res.Unsupported != 1 || res.Catalogue == "" || len(res.Sentences) != 2 {
		t.Fatalf("%+v", res)
	}
}
