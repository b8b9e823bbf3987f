package evals

import (
	"fmt"
	"sort"
	"strings"
)

// Counts are true positives, false positives and false negatives.
type Counts struct {
	TP, FP, FN int
}

// Add returns the sum of two counts.
func (c Counts) Add(o Counts) Counts { return Counts{c.TP + o.TP, c.FP + o.FP, c.FN + o.FN} }

// Precision is TP/(TP+FP); with nothing predicted it is 1 (no false
// positive was made).
func (c Counts) Precision() float64 {
	if c.TP+c.FP == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FP)
}

// Recall is TP/(TP+FN); with nothing expected it is 1.
func (c Counts) Recall() float64 {
	if c.TP+c.FN == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FN)
}

// F1 is the harmonic mean of precision and recall.
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// CompareSets counts expected and predicted labels as sets.
func CompareSets(expected, predicted []string) Counts {
	exp := toSet(expected)
	got := toSet(predicted)
	var c Counts
	for k := range got {
		if exp[k] {
			c.TP++
		} else {
			c.FP++
		}
	}
	for k := range exp {
		if !got[k] {
			c.FN++
		}
	}
	return c
}

func toSet(s []string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, x := range s {
		m[x] = true
	}
	return m
}

// Tally accumulates counts per label (e.g. per rule category) and keeps
// the mismatches for the report.
type Tally struct {
	by     map[string]Counts
	misses []Miss
}

// Miss is one false positive or false negative.
type Miss struct {
	CaseID string
	Label  string // the group the item belongs to (e.g. category)
	Item   string // e.g. the rule id
	Kind   string // "FP" or "FN"
}

// NewTally returns an empty tally.
func NewTally() *Tally { return &Tally{by: map[string]Counts{}} }

// Add compares one case's expected and predicted items, grouping each
// item by label(item).
func (t *Tally) Add(caseID string, expected, predicted []string, label func(item string) string) {
	exp, got := toSet(expected), toSet(predicted)
	for item := range got {
		l := label(item)
		c := t.by[l]
		if exp[item] {
			c.TP++
		} else {
			c.FP++
			t.misses = append(t.misses, Miss{caseID, l, item, "FP"})
		}
		t.by[l] = c
	}
	for item := range exp {
		if !got[item] {
			l := label(item)
			c := t.by[l]
			c.FN++
			t.by[l] = c
			t.misses = append(t.misses, Miss{caseID, l, item, "FN"})
		}
	}
}

// Labels returns the labels seen, sorted.
func (t *Tally) Labels() []string {
	out := make([]string, 0, len(t.by))
	for l := range t.by {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Get returns the counts of one label.
func (t *Tally) Get(label string) Counts { return t.by[label] }

// Total returns the micro-averaged counts over all labels.
func (t *Tally) Total() Counts {
	var c Counts
	for _, x := range t.by {
		c = c.Add(x)
	}
	return c
}

// Misses returns the mismatches sorted by case, kind and item.
func (t *Tally) Misses() []Miss {
	out := append([]Miss(nil), t.misses...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.CaseID != b.CaseID {
			return a.CaseID < b.CaseID
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Item < b.Item
	})
	return out
}

// Report renders a fixed-width table: one row per label and a total row.
func (t *Tally) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %5s %5s %5s %9s %7s %6s\n", "label", "TP", "FP", "FN", "precision", "recall", "F1")
	row := func(name string, c Counts) {
		fmt.Fprintf(&b, "%-18s %5d %5d %5d %9.3f %7.3f %6.3f\n", name, c.TP, c.FP, c.FN, c.Precision(), c.Recall(), c.F1())
	}
	for _, l := range t.Labels() {
		row(l, t.by[l])
	}
	row("TOTAL", t.Total())
	return b.String()
}
