package clinic

import (
	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/clinic/redflags"
)

// Level is one level of a county's urgency scale.
type Level struct {
	ID    string        `yaml:"id" json:"id"`
	Label redflags.Text `yaml:"label" json:"label"`
	// Canonical is the level of the rules' four-level scale this level
	// belongs to; several levels may share one (e.g. "within 2 hours" and
	// "same day" both same_day).
	Canonical redflags.Urgency `yaml:"canonical" json:"canonical"`
}

// Scale is an urgency scale, most urgent level first.
type Scale []Level

// DefaultScale is the four-level scale of the brief: emergency now, same
// day, within a few days, self-care and advice.
func DefaultScale() Scale {
	return Scale{
		{ID: "emergency", Canonical: redflags.Emergency, Label: redflags.Text{FI: "Päivystys heti (112)", SV: "Akut nu (112)", EN: "Emergency now (112)"}},
		{ID: "same_day", Canonical: redflags.SameDay, Label: redflags.Text{FI: "Saman päivän aikana", SV: "Samma dag", EN: "Same day"}},
		{ID: "few_days", Canonical: redflags.FewDays, Label: redflags.Text{FI: "Muutaman päivän sisällä", SV: "Inom några dagar", EN: "Within a few days"}},
		{ID: "self_care", Canonical: redflags.SelfCare, Label: redflags.Text{FI: "Kotihoito ja neuvonta", SV: "Egenvård och råd", EN: "Self-care and advice"}},
	}
}

// Validate checks that ids are unique, every canonical level is covered
// and canonical levels never become more urgent down the scale.
func (s Scale) Validate() error {
	if len(s) == 0 {
		return assist.Errorf(assist.KindInvalid, "clinic scale: no levels")
	}
	seen := map[string]bool{}
	covered := map[redflags.Urgency]bool{}
	prev := -1
	for i, l := range s {
		switch {
		case l.ID == "" || seen[l.ID]:
			return assist.Errorf(assist.KindInvalid, "clinic scale: level %d needs a unique id", i)
		case !l.Canonical.Valid():
			return assist.Errorf(assist.KindInvalid, "clinic scale: level %s: canonical must be one of %v", l.ID, redflags.Levels)
		case l.Canonical.Rank() < prev:
			return assist.Errorf(assist.KindInvalid, "clinic scale: level %s is listed after a less urgent level", l.ID)
		case l.Label.FI == "" || l.Label.SV == "" || l.Label.EN == "":
			return assist.Errorf(assist.KindInvalid, "clinic scale: level %s needs fi, sv and en labels", l.ID)
		}
		seen[l.ID] = true
		covered[l.Canonical] = true
		prev = l.Canonical.Rank()
	}
	for _, u := range redflags.Levels {
		if !covered[u] {
			return assist.Errorf(assist.KindInvalid, "clinic scale: no level for canonical %s", u)
		}
	}
	return nil
}

// Index returns the position of level id, or -1.
func (s Scale) Index(id string) int {
	for i, l := range s {
		if l.ID == id {
			return i
		}
	}
	return -1
}

// ForCanonical returns the position of the most urgent level belonging to
// canonical level u (the conservative mapping of a red flag's minimum).
func (s Scale) ForCanonical(u redflags.Urgency) int {
	for i, l := range s {
		if l.Canonical == u {
			return i
		}
	}
	return -1
}
