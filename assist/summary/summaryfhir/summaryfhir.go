// Package summaryfhir renders a draft visit note or background summary as
// FHIR R4 resources, following HL7's AI Transparency on FHIR guide: a
// Composition (status preliminary until a clinician signs; one section
// per filled heading with its LOINC code; a narrative in which every
// sentence is a span with its id; a sentence-citation extension per
// sentence naming the sources it rests on, whether the grounding checker
// supported it and the checker's flags), a Provenance (profile
// AI-Provenance) naming the AI system, the model release (name and
// digest), the note template (id and version) and the prompt templates,
// and the Device that is the AI. Composition and Provenance carry the
// AIAST security label ("Artificial Intelligence asserted").
//
// Validate checks a rendered Bundle against the R4 structure with the
// FHIR model library (unknown or mistyped elements, required elements).
// With assist/clinic/clinicfhir it is one of the two adapters of the FHIR
// model library; it imports assist/summary and nothing of HTTP.
package summaryfhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/summary"
)

// Code systems, profiles and extensions used.
const (
	SystemObservationValue = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
	SystemParticipantType  = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
	SystemDataOperation    = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
	ProfileAIProvenance    = "http://hl7.org/fhir/uv/aitransparency/StructureDefinition/AI-Provenance"
	SystemAuditSeq         = "urn:soteai:audit-seq"
	SystemModelDigest      = "urn:soteai:model-digest"
	SystemNoteTemplate     = "urn:soteai:note-template"
	SystemPromptTemplate   = "urn:soteai:prompt-template"
	SystemGroundingFlag    = "urn:soteai:grounding-flag"
	// ExtSentence is the sentence-citation extension of a Composition
	// section: sub-extensions "sentence" (id), "source" (a cited source
	// id, repeated), "supported" (boolean) and "flag" (coding, repeated).
	ExtSentence = "urn:soteai:fhir:StructureDefinition:sentence-citation"
	// ExtFacts marks a section of deterministic facts (not AI asserted).
	ExtFacts = "urn:soteai:fhir:StructureDefinition:deterministic-facts"
	// SystemSourceID names the sources of a visit note (transcript turns,
	// note lines) when they are not FHIR resources.
	SystemSourceID = "urn:soteai:summary-source"
)

// GatewayName is the AI system named in the Provenance.
const GatewayName = "SOTE AI gateway"

func ptr[T any](v T) *T { return &v }

func aiLabel() *fhir.Meta {
	return &fhir.Meta{Security: []fhir.Coding{{System: ptr(SystemObservationValue), Code: ptr("AIAST"), Display: ptr("Artificial Intelligence asserted")}}}
}

// fullURL is a stable urn:uuid for a resource id (name-based UUID), so the
// same draft always renders the same Bundle.
func fullURL(id string) *string {
	return ptr("urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:soteai:summary:"+id)).String())
}

// Bundle renders d as a collection Bundle: Composition, Provenance and
// the AI Device. sources are the draft's sources (for the count named in
// the Provenance). With a review that accepted or edited the draft, the
// Composition is the signed note: status final, attested by the
// reviewing professional, with the sentences as edited (each edited one
// marked), and the Provenance names the reviewer as verifier. A rejected
// draft is not rendered (conflict).
func Bundle(d *summary.Draft, sources []summary.Turn, rv *summary.Review) ([]byte, error) {
	if rv != nil && rv.Outcome == summary.OutcomeRejected {
		return nil, assist.E(assist.KindConflict, "summaryfhir.Bundle", "the draft was rejected by its reviewer; it is not a record entry")
	}
	edited := map[string]bool{}
	if rv != nil && len(rv.Edits) > 0 {
		e, err := summary.ApplyEdits(d, rv.Edits)
		if err != nil {
			return nil, assist.E(assist.KindInternal, "summaryfhir.Bundle", err)
		}
		for _, x := range rv.Edits {
			edited[x.ID] = true
		}
		d = e
	}
	id := "summary-" + strconv.FormatInt(d.ID, 10)
	when := d.Created.UTC().Format("2006-01-02T15:04:05Z")
	comp := fhir.Composition{Id: ptr(id), Meta: aiLabel(), Language: ptr(d.Lang),
		Identifier: &fhir.Identifier{System: ptr(SystemAuditSeq), Value: ptr(strconv.FormatInt(d.AuditSeq, 10))},
		Status:     fhir.CompositionStatusPreliminary,
		Type:       fhir.CodeableConcept{Coding: []fhir.Coding{coding(d.DocumentType)}, Text: ptr(d.Title)},
		Date:       when,
		Author:     []fhir.Reference{{Reference: fullURL(id + "-device"), Type: ptr("Device"), Display: ptr(GatewayName + " (AI draft)")}},
		Title:      d.Title,
	}
	for _, s := range d.Facts {
		if sec, ok := section(s, true, edited); ok {
			comp.Section = append(comp.Section, sec)
		}
	}
	signedText := rv != nil && rv.Outcome == summary.OutcomeEdited && len(rv.Edits) == 0
	if signedText {
		// Edited as one text: the signed text is the note.
		comp.Section = append(comp.Section, fhir.CompositionSection{Title: ptr(d.Title),
			Text: &fhir.Narrative{Status: fhir.NarrativeStatusAdditional, Div: div(paragraphs(rv.FinalText))}})
	} else {
		for _, s := range d.Sections {
			if sec, ok := section(s, false, edited); ok {
				comp.Section = append(comp.Section, sec)
			}
		}
	}
	if rv != nil {
		comp.Status = fhir.CompositionStatusFinal
		comp.Attester = []fhir.CompositionAttester{{Mode: fhir.CompositionAttestationModeProfessional, Time: ptr(rv.Created)}}
	}
	if len(comp.Section) == 0 {
		// A Composition with nothing in it still says so (cmp-1: text).
		comp.Text = &fhir.Narrative{Status: fhir.NarrativeStatusGenerated, Div: div("<p>The draft is empty.</p>")}
	}

	device := fhir.Device{Id: ptr(id + "-device"),
		DeviceName: []fhir.DeviceDeviceName{{Name: d.Model.Name, Type: fhir.DeviceNameTypeModelName}, {Name: GatewayName, Type: fhir.DeviceNameTypeUserFriendlyName}},
		Type:       &fhir.CodeableConcept{Text: ptr("Large language model")},
	}
	if d.Model.Digest != "" {
		device.Version = []fhir.DeviceVersion{{Type: &fhir.CodeableConcept{Text: ptr("model digest")}, Value: d.Model.Digest}}
	}

	prov := fhir.Provenance{Id: ptr(id + "-provenance"),
		Meta:     &fhir.Meta{Profile: []string{ProfileAIProvenance}, Security: aiLabel().Security},
		Target:   []fhir.Reference{{Reference: fullURL(id), Type: ptr("Composition")}},
		Recorded: when,
		Activity: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(SystemDataOperation), Code: ptr("CREATE"), Display: ptr("create")}}},
		Agent: []fhir.ProvenanceAgent{{
			Type: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(SystemParticipantType), Code: ptr("author"), Display: ptr("Author")}}},
			Who: fhir.Reference{Reference: fullURL(id + "-device"), Type: ptr("Device"),
				Identifier: &fhir.Identifier{System: ptr(SystemModelDigest), Value: ptr(d.Model.Name + "@" + d.Model.Digest)},
				Display:    ptr(GatewayName + ", model " + d.Model.Name)},
		}},
		Entity: []fhir.ProvenanceEntity{
			{Role: fhir.ProvenanceEntityRoleSource, What: fhir.Reference{Identifier: &fhir.Identifier{System: ptr(SystemNoteTemplate), Value: ptr(d.TemplateID + "@" + d.TemplateVersion)}, Display: ptr("note template " + d.TemplateID + " version " + d.TemplateVersion)}},
			{Role: fhir.ProvenanceEntityRoleSource, What: fhir.Reference{Identifier: &fhir.Identifier{System: ptr(SystemPromptTemplate), Value: ptr(summary.PromptVersion)}, Display: ptr("prompt templates " + summary.PromptVersion)}},
			{Role: fhir.ProvenanceEntityRoleSource, What: fhir.Reference{Identifier: &fhir.Identifier{System: ptr(SystemAuditSeq), Value: ptr(strconv.FormatInt(d.AuditSeq, 10))}, Display: ptr("audit record of the draft")}},
			{Role: fhir.ProvenanceEntityRoleSource, What: fhir.Reference{Display: ptr(fmt.Sprintf("%d sources (%s)", len(sources), sourceKind(d)))}},
		},
	}
	if rv != nil {
		prov.Agent = append(prov.Agent, fhir.ProvenanceAgent{
			Type: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(SystemParticipantType), Code: ptr("verifier"), Display: ptr("Verifier")}}},
			Who:  fhir.Reference{Display: ptr("reviewing professional (" + rv.Outcome + ")")},
		})
		prov.Entity = append(prov.Entity, fhir.ProvenanceEntity{Role: fhir.ProvenanceEntityRoleSource,
			What: fhir.Reference{Identifier: &fhir.Identifier{System: ptr(SystemAuditSeq), Value: ptr(strconv.FormatInt(rv.AuditSeq, 10))}, Display: ptr("audit record of the review")}})
	}
	var entries []fhir.BundleEntry
	for _, r := range []struct {
		id string
		v  any
	}{{id, comp}, {id + "-provenance", prov}, {id + "-device", device}} {
		b, err := json.Marshal(r.v)
		if err != nil {
			return nil, assist.E(assist.KindInternal, "summaryfhir.Bundle", err)
		}
		entries = append(entries, fhir.BundleEntry{FullUrl: fullURL(r.id), Resource: b})
	}
	b, err := json.MarshalIndent(fhir.Bundle{Id: ptr(id), Type: fhir.BundleTypeCollection, Timestamp: ptr(when), Entry: entries}, "", "  ")
	if err != nil {
		return nil, assist.E(assist.KindInternal, "summaryfhir.Bundle", err)
	}
	// The library's encoder escapes <, > and & in strings; FHIR JSON (and a
	// reader of the narrative) is better served by the plain characters,
	// which JSON allows.
	b = []byte(unescapeHTML.Replace(string(b)))
	if err := Validate(b); err != nil {
		return nil, assist.E(assist.KindInternal, "summaryfhir.Bundle", err)
	}
	return append(b, '\n'), nil
}

var unescapeHTML = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")

func sourceKind(d *summary.Draft) string {
	if d.Kind == summary.KindBackground {
		return "FHIR resources of the client's record"
	}
	return "visit transcript turns and notes"
}

func coding(c summary.Coding) fhir.Coding {
	out := fhir.Coding{System: ptr(c.System), Code: ptr(c.Code)}
	if c.Display != "" {
		out.Display = ptr(c.Display)
	}
	return out
}

func div(inner string) string { return `<div xmlns="http://www.w3.org/1999/xhtml">` + inner + `</div>` }

// paragraphs renders plain text as escaped XHTML paragraphs.
func paragraphs(text string) string {
	var b strings.Builder
	for p := range strings.SplitSeq(strings.TrimSpace(text), "\n\n") {
		b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(strings.TrimSpace(p)), "\n", "<br/>") + "</p>")
	}
	return b.String()
}

// section renders one section; empty sections are left out. Sentences
// in edited carry the sub-extension edited = true.
func section(s summary.DraftSection, facts bool, edited map[string]bool) (fhir.CompositionSection, bool) {
	var texts []string
	sec := fhir.CompositionSection{Title: ptr(s.Title), Code: &fhir.CodeableConcept{Coding: []fhir.Coding{coding(s.Code)}}}
	seen := map[string]bool{}
	for _, x := range s.Sentences {
		if x.Text == "" {
			continue
		}
		texts = append(texts, fmt.Sprintf(`<span id="%s">%s</span>`, html.EscapeString(x.ID), html.EscapeString(x.Text)))
		ext := fhir.Extension{Url: ExtSentence, Extension: []fhir.Extension{{Url: "sentence", ValueString: ptr(x.ID)}}}
		for _, c := range x.Cites {
			ext.Extension = append(ext.Extension, fhir.Extension{Url: "source", ValueString: ptr(c)})
			if facts && strings.Contains(c, "/") && !strings.HasPrefix(c, "risk/") && !seen[c] {
				seen[c] = true
				sec.Entry = append(sec.Entry, fhir.Reference{Reference: ptr(c)})
			}
		}
		ext.Extension = append(ext.Extension, fhir.Extension{Url: "supported", ValueBoolean: ptr(x.Supported)})
		if edited[x.ID] {
			ext.Extension = append(ext.Extension, fhir.Extension{Url: "edited", ValueBoolean: ptr(true)})
		}
		for _, f := range x.Flags {
			ext.Extension = append(ext.Extension, fhir.Extension{Url: "flag", ValueCoding: &fhir.Coding{System: ptr(SystemGroundingFlag), Code: ptr(f.Type)}})
		}
		sec.Extension = append(sec.Extension, ext)
	}
	if len(texts) == 0 {
		return sec, false
	}
	if facts {
		sec.Extension = append([]fhir.Extension{{Url: ExtFacts, ValueBoolean: ptr(true)}}, sec.Extension...)
	}
	sec.Text = &fhir.Narrative{Status: fhir.NarrativeStatusGenerated, Div: div("<p>" + strings.Join(texts, " ") + "</p>")}
	return sec, true
}

// Validate checks a Bundle of this package's resources against the R4
// structure: every resource decodes into the model library's type with no
// unknown element, and required elements are present. Errors name the
// entry and element, never a value.
func Validate(bundle []byte) error {
	var b fhir.Bundle
	if err := strict(bundle, &b); err != nil {
		return fmt.Errorf("Bundle: %w", err)
	}
	for i, e := range b.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(e.Resource, &head); err != nil {
			return fmt.Errorf("entry[%d]: %w", i, err)
		}
		var err error
		switch head.ResourceType {
		case "Composition":
			var c fhir.Composition
			if err = strict(e.Resource, &c); err == nil {
				err = checkComposition(c)
			}
		case "Provenance":
			var p fhir.Provenance
			if err = strict(e.Resource, &p); err == nil && (len(p.Target) == 0 || p.Recorded == "" || len(p.Agent) == 0) {
				err = fmt.Errorf("target, recorded and agent are required")
			}
		case "Device":
			var d fhir.Device
			err = strict(e.Resource, &d)
		default:
			err = fmt.Errorf("unexpected resource type %q", head.ResourceType)
		}
		if err != nil {
			return fmt.Errorf("entry[%d] (%s): %w", i, head.ResourceType, err)
		}
	}
	return nil
}

func checkComposition(c fhir.Composition) error {
	if c.Date == "" || c.Title == "" || len(c.Author) == 0 || len(c.Type.Coding) == 0 {
		return fmt.Errorf("date, title, author and type are required")
	}
	if len(c.Section) == 0 && c.Text == nil {
		return fmt.Errorf("a Composition without sections needs a narrative")
	}
	for i, s := range c.Section {
		if s.Text == nil && len(s.Entry) == 0 && len(s.Section) == 0 {
			return fmt.Errorf("section[%d]: a section needs text, entries or sections (cmp-1)", i)
		}
		for _, x := range s.Extension {
			if x.Url == "" {
				return fmt.Errorf("section[%d]: an extension has no url", i)
			}
		}
	}
	return nil
}

// strict decodes v from b, refusing elements the R4 type does not have
// ("resourceType" is read by the type's own marshalling).
func strict(b []byte, v any) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	delete(m, "resourceType")
	clean, _ := json.Marshal(m)
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
