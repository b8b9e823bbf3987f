package grounding

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

type mtsRecord struct {
	ID          string `json:"id"`
	Dialogue    string `json:"dialogue"`
	SectionText string `json:"section_text"`
}

// mtsTurns splits an MTS-Dialog dialogue ("Doctor: …\nPatient: …") into turns.
func mtsTurns(dialogue string) []Source {
	var out []Source
	for _, line := range strings.Split(dialogue, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		sp, text, ok := strings.Cut(line, ":")
		if !ok || len(sp) > 16 {
			sp, text = "", line
		}
		out = append(out, Source{ID: "t" + strconv.Itoa(len(out)+1), Speaker: strings.TrimSpace(sp), Text: strings.TrimSpace(text)})
	}
	return out
}

var sentenceEnd = regexp.MustCompile(`([.!?])\s+`)

// oneDetail are one-detail changes of a faithful sentence, each of which
// makes it unfaithful: the kind of error a scribe makes.
var oneDetail = []struct {
	name string
	swap [][2]string // the first pair found is applied once
}{
	{"side", [][2]string{{"left", "right"}, {"right", "left"}, {"Left", "Right"}, {"Right", "Left"}}},
	{"negation", [][2]string{{"denies any ", "reports "}, {"denies ", "reports "}, {"Denies ", "Reports "}, {"does not have", "has"}, {"No ", "Positive for "}}},
	{"drug", [][2]string{{"Tylenol", "ibuprofen"}, {"ibuprofen", "naproxen"}, {"metformin", "glipizide"}, {"lisinopril", "losartan"}, {"aspirin", "clopidogrel"}, {"insulin", "metformin"}}},
	{"finding", [][2]string{{"cough", "wheezing"}, {"fever", "rash"}, {"headache", "dizziness"}, {"nausea", "diarrhea"}, {"swelling", "bruising"}, {"knee", "hip"}, {"shoulder", "elbow"}}},
}

var firstNumber = regexp.MustCompile(`\b\d+\b`)

// TestReferenceNotes checks MTS-Dialog reference sections against their
// dialogues (an outside, English text the checker was not written for):
// it reports the share of reference sentences flagged, and how many
// one-detail changes of the sentences it supports it catches.
func TestReferenceNotes(t *testing.T) {
	c := testChecker(t)
	recs := readJSONL[mtsRecord](t, filepath.Join("testdata", "mts", "mts_dialog_excerpt.jsonl"))
	total, flagged := 0, 0
	type stat struct{ n, hit int }
	st := map[string]*stat{}
	var missed []string
	for _, r := range recs {
		src := mtsTurns(r.Dialogue)
		for _, s := range sentenceEnd.Split(strings.ReplaceAll(r.SectionText, "\n", " "), -1) {
			if s = strings.TrimSpace(s); len(s) < 12 {
				continue
			}
			res, err := c.Check("en", src, []Sentence{{ID: "s", Text: s}})
			if err != nil {
				t.Fatal(err)
			}
			total++
			if !res[0].Supported {
				flagged++
				continue
			}
			try := func(name, changed string) {
				out, _ := c.Check("en", src, []Sentence{{ID: "s", Text: changed}})
				if st[name] == nil {
					st[name] = &stat{}
				}
				st[name].n++
				if !out[0].Supported {
					st[name].hit++
				} else {
					missed = append(missed, fmt.Sprintf("%s %s: %q", name, r.ID, changed))
				}
			}
			if loc := firstNumber.FindStringIndex(s); loc != nil {
				v, _ := strconv.Atoi(s[loc[0]:loc[1]])
				try("number", s[:loc[0]]+strconv.Itoa(v+3)+s[loc[1]:])
			}
			for _, od := range oneDetail {
				for _, p := range od.swap {
					if strings.Contains(s, p[0]) {
						try(od.name, strings.Replace(s, p[0], p[1], 1))
						break
					}
				}
			}
		}
	}
	t.Logf("reference sentences: %d, flagged %d (%.1f%%; the references hold some facts their dialogues do not)", total, flagged, 100*float64(flagged)/float64(total))
	names := make([]string, 0, len(st))
	n, hit := 0, 0
	for k := range st {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t.Logf("  one-detail change %-8s caught %d/%d", k, st[k].hit, st[k].n)
		n += st[k].n
		hit += st[k].hit
	}
	t.Logf("  all one-detail changes caught %d/%d (%.1f%%)", hit, n, 100*float64(hit)/float64(n))
	if testing.Verbose() {
		for _, m := range missed {
			t.Log("missed " + m)
		}
	}
	// Floors, not targets.
	if float64(flagged) > 0.30*float64(total) {
		t.Errorf("%d of %d reference sentences flagged: too many faithful sentences flagged", flagged, total)
	}
	if float64(hit) < 0.6*float64(n) {
		t.Errorf("only %d of %d one-detail changes caught", hit, n)
	}
}
