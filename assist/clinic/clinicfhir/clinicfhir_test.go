package clinicfhir

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/soteai/gateway/assist/clinic"
	"github.com/soteai/gateway/assist/clinic/redflags"
	"github.com/soteai/gateway/assist/golden"
	"github.com/soteai/gateway/assist/record"
)

func suggestion() clinic.Suggestion {
	sc := clinic.DefaultScale()
	return clinic.Suggestion{ID: 42, ModelCall: 41, CreatedAt: time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC),
		Model: record.Model{Name: "clinic-model:7b", Digest: "sha256:0123abcd"}, Template: record.TemplateRef{ID: "clinic.assist", Version: "1"},
		RulesVersion: "1.0.0+3f2a9c1b0d4e", Scale: sc, ReplyTo: "msg-2",
		Urgency: clinic.Urgency{Level: "self_care", Label: sc[3].Label, Canonical: redflags.SelfCare, Basis: "model", Model: "self_care",
			Reasons: []clinic.Reason{{From: "model", Text: "Mild cold symptoms for three days", Spans: []clinic.Span{{Message: 0, Start: 0, End: 5, Text: "Nuhaa"}}}}},
		Draft: clinic.Draft{Status: clinic.DraftReady, Lang: "fi", Text: "Lepää ja juo riittävästi [1].",
			Citations: []clinic.Citation{{N: 1, ChunkID: 100, DocumentID: 7, Title: "Flunssa", HeadingPath: []string{"Flunssa", "Kotihoito"}, Text: "Lepää, juo riittävästi."}}},
		Note: clinic.Note{Situation: "Nuha kolme päivää", Assessment: "Lievä flunssa", Recommendation: "Kotihoito", Urgency: sc[3].Label.FI,
			RedFlags: []string{}, Denied: []string{"chest_pain (negation)"}, Medicines: []string{}},
	}
}

func TestResourcesGolden(t *testing.T) {
	ready := suggestion()
	flagged := suggestion()
	flagged.Urgency = clinic.Urgency{Level: "emergency", Label: flagged.Scale[0].Label, Canonical: redflags.Emergency, Minimum: "emergency", Basis: "red_flag",
		Reasons: []clinic.Reason{{From: "red_flag", Rule: "RF-CHEST-01", Text: "Rintakipu ja hengenahdistus", Spans: []clinic.Span{{Message: 1, Start: 0, End: 10, Text: "Rintakipua"}}}}}
	flagged.RedFlags = []clinic.RedFlag{{Rule: "RF-CHEST-01", Flag: "chest_pain_warning_signs", Urgency: redflags.Emergency,
		Title:    redflags.Text{FI: "Rintakipu ja hengenahdistus", SV: "Bröstsmärta med andnöd", EN: "Chest pain with breathlessness"},
		Evidence: []clinic.Span{{Message: 1, Start: 0, End: 10, Text: "Rintakipua"}, {Message: 1, Start: 15, End: 31, Text: "hengenahdistusta"}}}}
	flagged.Draft = clinic.Draft{Status: clinic.DraftFlagReply, Lang: "fi", Text: clinic.DefaultEmergencyReply.FI, Citations: []clinic.Citation{}}
	withheld := suggestion()
	withheld.Draft = clinic.Draft{Status: clinic.DraftWithheld, Lang: "fi", Citations: []clinic.Citation{},
		Withheld: &clinic.WithheldReason{Code: clinic.WithheldNoCitation, Message: "the reply cites no instruction passage"}}
	for name, sg := range map[string]clinic.Suggestion{"ready": ready, "red_flag": flagged, "withheld": withheld} {
		t.Run(name, func(t *testing.T) {
			b, err := Resources(sg, nil, "Patient/123")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/"+name+".json", append(b, '\n'))
			var bundle struct {
				Entry []struct {
					Resource map[string]any `json:"resource"`
				} `json:"entry"`
			}
			if err := json.Unmarshal(b, &bundle); err != nil {
				t.Fatal(err)
			}
			kinds := map[string]int{}
			for _, e := range bundle.Entry {
				kinds[e.Resource["resourceType"].(string)]++
			}
			wantComm := 1
			if name == "withheld" {
				wantComm = 0
			}
			if kinds["Communication"] != wantComm || kinds["ClinicalImpression"] != 1 || kinds["Provenance"] != wantComm+1 {
				t.Errorf("resources %v", kinds)
			}
			if bytes.Contains(b, []byte(`"contentAttachment"`)) || bytes.Contains(b, []byte(`{}`)) {
				t.Errorf("empty FHIR elements in the output")
			}
		})
	}
}
