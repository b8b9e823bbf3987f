// Package clinicfhir renders a digital clinic suggestion as FHIR R4
// resources: the draft reply as a Communication (status preparation,
// inResponseTo the patient's message), the urgency as a ClinicalImpression
// (status in-progress until the nurse decides), and a Provenance for each
// naming the model release and prompt template (or the red-flag rules,
// for a configured reply) per the HL7 AI Transparency on FHIR guide, whose
// AIAST security label marks both resources.
//
// Why ClinicalImpression and not Flag: a Flag is a standing alert shown on
// the patient's chart across encounters until it is withdrawn; a triage
// urgency is a point-in-time assessment of one conversation, with findings
// (the red flags and the reasons, each with its basis in the patient's
// words) and a summary — what ClinicalImpression holds. A red flag copied
// to a chart Flag would linger after the episode is over.
//
// It and assist/summary/summaryfhir are the two FHIR output adapters, the
// only packages importing the FHIR model library.
package clinicfhir

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/soteai/gateway/assist/clinic"
)

// Code systems and profiles used.
const (
	SystemObservationValue = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
	SystemParticipantType  = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
	ProfileAIProvenance    = "http://hl7.org/fhir/uv/aitransparency/StructureDefinition/AI-Provenance"
	SystemAuditSeq         = "urn:soteai:audit-seq"
	SystemUrgency          = "urn:soteai:clinic:urgency"
	SystemRedFlag          = "urn:soteai:clinic:red-flag"
	SystemChunk            = "urn:soteai:retrieval:chunk"
	SystemModelDigest      = "urn:soteai:model-digest"
	SystemTemplate         = "urn:soteai:prompt-template"
	SystemRules            = "urn:soteai:clinic:red-flag-rules"
)

func ptr[T any](v T) *T { return &v }

func aiLabel() *fhir.Meta {
	return &fhir.Meta{Security: []fhir.Coding{{System: ptr(SystemObservationValue), Code: ptr("AIAST"), Display: ptr("Artificial Intelligence asserted")}}}
}

// Resources returns the FHIR resources of a suggestion, as a collection
// Bundle: the Communication (only when there is a draft to show), the
// ClinicalImpression, and one Provenance for each. subject is the
// patient's reference ("Patient/123"; empty: an unidentified patient).
func Resources(sg clinic.Suggestion, conv []clinic.Message, subject string) ([]byte, error) {
	id := "clinic-" + strconv.FormatInt(sg.ID, 10)
	when := sg.CreatedAt.UTC().Format(time.RFC3339)
	seq := []fhir.Identifier{{System: ptr(SystemAuditSeq), Value: ptr(strconv.FormatInt(sg.ID, 10))}}
	subj := fhir.Reference{Display: ptr("unidentified patient")}
	if subject != "" {
		subj = fhir.Reference{Reference: ptr(subject)}
	}
	var entries []fhir.BundleEntry
	add := func(rid string, r any) error {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		entries = append(entries, fhir.BundleEntry{FullUrl: fullURL(rid), Resource: b})
		return nil
	}
	lang := sg.Draft.Lang

	if sg.Draft.Status != clinic.DraftWithheld && sg.Draft.Text != "" {
		comm := fhir.Communication{Id: ptr(id + "-draft"), Meta: aiLabel(), Language: ptr(lang), Identifier: seq,
			Status: fhir.EventStatusPreparation, Subject: &subj,
			Payload: []fhir.CommunicationPayload{{ContentString: sg.Draft.Text}}}
		if sg.ReplyTo != "" {
			comm.InResponseTo = []fhir.Reference{{Reference: ptr("Communication/" + sg.ReplyTo)}}
		}
		b, err := communicationJSON(comm)
		if err != nil {
			return nil, err
		}
		entries = append(entries, fhir.BundleEntry{FullUrl: fullURL(id + "-draft"), Resource: b})
		prov := provenance(sg, id+"-draft-provenance", "Communication/"+id+"-draft", when)
		if sg.Draft.Status == clinic.DraftFlagReply {
			// The county's configured reply, chosen by the rules: no model wrote it.
			prov.Agent = []fhir.ProvenanceAgent{rulesAgent(sg)}
			prov.Entity = nil
		} else {
			prov.Entity = nil
			for _, c := range sg.Draft.Citations {
				prov.Entity = append(prov.Entity, chunkEntity(c))
			}
		}
		if err := add(id+"-draft-provenance", prov); err != nil {
			return nil, err
		}
	}

	ci := fhir.ClinicalImpression{Id: ptr(id + "-urgency"), Meta: aiLabel(), Language: ptr(lang), Identifier: seq,
		Status: fhir.ClinicalImpressionStatusInProgress, Subject: subj, Date: ptr(when),
		Code:        &fhir.CodeableConcept{Text: ptr("Digital clinic triage urgency (suggestion awaiting a nurse)")},
		Description: ptr(sg.Urgency.Label.In(lang)),
		Protocol:    []string{SystemRules + ":" + sg.RulesVersion},
		Summary:     ptr(noteText(sg.Note)),
	}
	ci.Finding = append(ci.Finding, fhir.ClinicalImpressionFinding{
		ItemCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(SystemUrgency), Code: ptr(sg.Urgency.Level), Display: ptr(sg.Urgency.Label.In(lang))}}},
		Basis:               ptr(basis(sg.Urgency.Reasons, sg.Urgency.Basis)),
	})
	for _, f := range sg.RedFlags {
		ci.Finding = append(ci.Finding, fhir.ClinicalImpressionFinding{
			ItemCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(SystemRedFlag), Code: ptr(f.Flag), Display: ptr(f.Title.In(lang))}}},
			Basis:               ptr(f.Rule + ": " + quotes(f.Evidence)),
		})
	}
	if err := add(id+"-urgency", ci); err != nil {
		return nil, err
	}
	prov := provenance(sg, id+"-urgency-provenance", "ClinicalImpression/"+id+"-urgency", when)
	prov.Agent = append(prov.Agent, rulesAgent(sg))
	if err := add(id+"-urgency-provenance", prov); err != nil {
		return nil, err
	}
	b := fhir.Bundle{Id: ptr(id), Type: fhir.BundleTypeCollection, Timestamp: ptr(when), Entry: entries}
	return json.MarshalIndent(b, "", "  ")
}

// fullURL is a stable urn:uuid for a resource id (name-based UUID), so the
// same suggestion always renders the same Bundle.
func fullURL(id string) *string {
	return ptr("urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:soteai:clinic:"+id)).String())
}

// communicationJSON marshals a Communication without the empty
// contentAttachment and contentReference objects the library writes beside
// contentString (FHIR JSON forbids empty objects and allows one payload
// content[x] only).
func communicationJSON(c fhir.Communication) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var payload []map[string]json.RawMessage
	if err := json.Unmarshal(m["payload"], &payload); err != nil {
		return nil, err
	}
	for _, p := range payload {
		delete(p, "contentAttachment")
		delete(p, "contentReference")
	}
	if m["payload"], err = json.Marshal(payload); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// provenance names the model release and the prompt template.
func provenance(sg clinic.Suggestion, id, target, when string) fhir.Provenance {
	model := sg.Model.Name
	return fhir.Provenance{Id: ptr(id), Meta: &fhir.Meta{Profile: []string{ProfileAIProvenance}},
		Target: []fhir.Reference{{Reference: ptr(target)}}, Recorded: when,
		Policy: []string{SystemRules + ":" + sg.RulesVersion},
		Agent: []fhir.ProvenanceAgent{
			{Type: participant("author", "Author"),
				Who: fhir.Reference{Type: ptr("Device"), Display: ptr("language model " + model),
					Identifier: &fhir.Identifier{System: ptr(SystemModelDigest), Value: ptr(model + "@" + sg.Model.Digest)}}},
			{Type: participant("assembler", "Assembler"),
				Who: fhir.Reference{Type: ptr("Device"), Display: ptr("SOTE AI gateway, prompt template " + sg.Template.ID + "@" + sg.Template.Version),
					Identifier: &fhir.Identifier{System: ptr(SystemTemplate), Value: ptr(sg.Template.ID + "@" + sg.Template.Version)}}},
		},
	}
}

func rulesAgent(sg clinic.Suggestion) fhir.ProvenanceAgent {
	return fhir.ProvenanceAgent{Type: participant("author", "Author"),
		Who: fhir.Reference{Type: ptr("Device"), Display: ptr("digital clinic red-flag rules " + sg.RulesVersion),
			Identifier: &fhir.Identifier{System: ptr(SystemRules), Value: ptr(sg.RulesVersion)}}}
}

func participant(code, display string) *fhir.CodeableConcept {
	return &fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(SystemParticipantType), Code: ptr(code), Display: ptr(display)}}}
}

func chunkEntity(c clinic.Citation) fhir.ProvenanceEntity {
	return fhir.ProvenanceEntity{Role: fhir.ProvenanceEntityRoleSource, What: fhir.Reference{
		Identifier: &fhir.Identifier{System: ptr(SystemChunk), Value: ptr(strconv.FormatInt(c.ChunkID, 10))},
		Display:    ptr(strings.TrimSpace(c.Title + " — " + strings.Join(c.HeadingPath, " / ")))}}
}

func quotes(spans []clinic.Span) string {
	var q []string
	for _, s := range spans {
		q = append(q, fmt.Sprintf("message %d: %q", s.Message+1, s.Text))
	}
	return strings.Join(q, "; ")
}

func basis(rs []clinic.Reason, from string) string {
	var parts []string
	for _, r := range rs {
		p := r.Text
		if len(r.Spans) > 0 {
			p += " (" + quotes(r.Spans) + ")"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "basis: " + from
	}
	return "basis: " + from + "; " + strings.Join(parts, "; ")
}

func noteText(n clinic.Note) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	line("Urgency", n.Urgency)
	line("Situation", n.Situation)
	line("Background", n.Background)
	line("Assessment", n.Assessment)
	line("Recommendation", n.Recommendation)
	line("Red flags", strings.Join(n.RedFlags, "; "))
	line("Denied", strings.Join(n.Denied, "; "))
	line("Medicines", strings.Join(n.Medicines, "; "))
	return strings.TrimSpace(b.String())
}
