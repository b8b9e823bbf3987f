package cdshooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/risk"
	"github.com/soteai/gateway/risk/fhirin"
)

// Service ids. A CDS Hooks service answers exactly one hook, so the
// medication risk check is published twice: order-sign (the main check,
// before signing) and order-select (as the clinician picks an order).
const (
	ServiceID       = "medication-risk"
	SelectServiceID = "medication-risk-select"

	HookOrderSign   = "order-sign"
	HookOrderSelect = "order-select"
)

// Discovery types (CDS Hooks 2.0, "Discovery").
type (
	// DiscoveryResponse is the body of GET /cds-services.
	DiscoveryResponse struct {
		Services []Service `json:"services"`
	}
	// Service describes one CDS service.
	Service struct {
		Hook              string            `json:"hook"`
		Title             string            `json:"title,omitempty"`
		Description       string            `json:"description"`
		ID                string            `json:"id"`
		Prefetch          map[string]string `json:"prefetch,omitempty"`
		UsageRequirements string            `json:"usageRequirements,omitempty"`
	}
)

// prefetchTemplates ask the EHR for everything the rules use, so the
// service never needs to call back to the FHIR server.
var prefetchTemplates = map[string]string{
	"patient":              "Patient/{{context.patientId}}",
	"medicationRequests":   "MedicationRequest?patient={{context.patientId}}&status=active",
	"medicationStatements": "MedicationStatement?patient={{context.patientId}}&status=active",
	"egfr":                 "Observation?patient={{context.patientId}}&code=http://loinc.org|98979-8,http://loinc.org|62238-1,http://loinc.org|33914-3&_sort=-date&_count=1",
	"creatinine":           "Observation?patient={{context.patientId}}&code=http://loinc.org|14682-9,http://loinc.org|2160-0&_sort=-date&_count=1",
	"weight":               "Observation?patient={{context.patientId}}&code=http://loinc.org|29463-7&_sort=-date&_count=1",
	"conditions":           "Condition?patient={{context.patientId}}&clinical-status=active",
}

// Discovery returns the discovery response for the medication risk
// services. It is constant for a given knowledge base.
func Discovery() DiscoveryResponse {
	const usage = "Send the prefetch queries (medications, eGFR or creatinine, weight, active ICD-10 conditions); the service does not call the FHIR server."
	desc := "Rule-based medication risk flags (interactions, renal dosing, anticholinergic burden, fall risk, drugs to avoid in older adults, duplicates), each cited to a public source."
	return DiscoveryResponse{Services: []Service{
		{Hook: HookOrderSign, Title: "Medication risk check", Description: desc, ID: ServiceID, Prefetch: prefetchTemplates, UsageRequirements: usage},
		{Hook: HookOrderSelect, Title: "Medication risk check (order selection)", Description: desc, ID: SelectServiceID, Prefetch: prefetchTemplates, UsageRequirements: usage},
	}}
}

// HookFor returns the hook a service id answers.
func HookFor(serviceID string) (string, bool) {
	switch serviceID {
	case ServiceID:
		return HookOrderSign, true
	case SelectServiceID:
		return HookOrderSelect, true
	}
	return "", false
}

// Request is a CDS Hooks 2.0 service request for order-select/order-sign.
// fhirAuthorization is accepted but never used or logged.
type Request struct {
	Hook              string                     `json:"hook"`
	HookInstance      string                     `json:"hookInstance"`
	FHIRServer        string                     `json:"fhirServer,omitempty"`
	FHIRAuthorization json.RawMessage            `json:"fhirAuthorization,omitempty"`
	Context           RequestContext             `json:"context"`
	Prefetch          map[string]json.RawMessage `json:"prefetch,omitempty"`
}

// RequestContext is the hook context of order-select and order-sign.
type RequestContext struct {
	UserID      string          `json:"userId"`
	PatientID   string          `json:"patientId"`
	EncounterID string          `json:"encounterId,omitempty"`
	Selections  []string        `json:"selections,omitempty"` // order-select only
	DraftOrders json.RawMessage `json:"draftOrders"`
}

const maxIDLen = 256

// ParseRequest decodes and checks a request for serviceID. Errors are of
// kind not_found (unknown service) or invalid, with client-safe messages.
func ParseRequest(data []byte, serviceID string) (*Request, error) {
	const op = "cdshooks.ParseRequest"
	hook, ok := HookFor(serviceID)
	if !ok {
		return nil, assist.E(assist.KindNotFound, op, "no such CDS service")
	}
	var r Request
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, assist.E(assist.KindInvalid, op, "the request body is not a valid CDS Hooks request", err)
	}
	switch {
	case r.Hook != hook:
		return nil, assist.E(assist.KindInvalid, op, fmt.Sprintf("service %s answers the %s hook", serviceID, hook))
	case r.HookInstance == "" || len(r.HookInstance) > maxIDLen:
		return nil, assist.E(assist.KindInvalid, op, "hookInstance is required")
	case r.Context.PatientID == "" || len(r.Context.PatientID) > maxIDLen:
		return nil, assist.E(assist.KindInvalid, op, "context.patientId is required")
	case r.Context.UserID == "" || len(r.Context.UserID) > maxIDLen:
		return nil, assist.E(assist.KindInvalid, op, "context.userId is required")
	case len(bytes.TrimSpace(r.Context.DraftOrders)) == 0:
		return nil, assist.E(assist.KindInvalid, op, "context.draftOrders is required")
	}
	return &r, nil
}

// Input builds the assessment input from draftOrders and prefetch. Draft
// MedicationRequests are marked new; for order-select only the selected
// drafts are (when selections are given).
func (r *Request) Input(now time.Time) (fhirin.Parsed, error) {
	c := fhirin.NewCollector(now)
	drafts := map[string]bool{}
	var probe struct {
		Entry []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				ID           string `json:"id"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(r.Context.DraftOrders, &probe); err == nil {
		for _, e := range probe.Entry {
			if e.Resource.ResourceType == "MedicationRequest" {
				drafts["MedicationRequest/"+e.Resource.ID] = true
			}
		}
	}
	selected := map[string]bool{}
	for _, s := range r.Context.Selections {
		selected[s] = true
	}
	c.New = func(ref, status string) bool {
		if !drafts[ref] {
			return false
		}
		if r.Hook == HookOrderSelect && len(selected) > 0 {
			return selected[ref]
		}
		return true
	}
	if err := c.Add("context.draftOrders", r.Context.DraftOrders); err != nil {
		return fhirin.Parsed{}, err
	}
	keys := make([]string, 0, len(r.Prefetch))
	for k := range r.Prefetch {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(k) > 64 {
			return fhirin.Parsed{}, assist.E(assist.KindInvalid, "cdshooks.Input", "prefetch key too long")
		}
		if err := c.Add("prefetch."+k, r.Prefetch[k]); err != nil {
			return fhirin.Parsed{}, err
		}
	}
	return c.Result()
}

// Prefetch keys of the current medication list (see prefetchTemplates).
var medicationPrefetchKeys = []string{"medicationRequests", "medicationStatements"}

// MedicationsProvided reports whether the request carries the current
// medication list: at least one medication prefetch key with a value
// (an empty search result counts: the patient has no current medicines).
func (r *Request) MedicationsProvided() bool {
	for _, k := range medicationPrefetchKeys {
		if v, ok := r.Prefetch[k]; ok {
			if t := bytes.TrimSpace(v); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
				return true
			}
		}
	}
	return false
}

// CheckPatient verifies that every Patient resource and every subject or
// patient reference in the draft orders and prefetch names
// context.patientId, so cards are never computed from another patient's
// data. Errors are of kind invalid and name the prefetch key, not the ids.
func (r *Request) CheckPatient() error {
	const op = "cdshooks.CheckPatient"
	want := r.Context.PatientID
	check := func(where string, data json.RawMessage) error {
		var probe struct {
			resourceRef
			Entry []struct {
				Resource resourceRef `json:"resource"`
			} `json:"entry"`
		}
		t := bytes.TrimSpace(data)
		if len(t) == 0 || bytes.Equal(t, []byte("null")) {
			return nil
		}
		if err := json.Unmarshal(t, &probe); err != nil {
			return nil // malformed values are reported by the resource parser
		}
		refs := []resourceRef{probe.resourceRef}
		for _, e := range probe.Entry {
			refs = append(refs, e.Resource)
		}
		for _, rr := range refs {
			if !rr.about(want) {
				return assist.E(assist.KindInvalid, op, where+": a resource belongs to a different patient than context.patientId")
			}
		}
		return nil
	}
	if err := check("context.draftOrders", r.Context.DraftOrders); err != nil {
		return err
	}
	keys := make([]string, 0, len(r.Prefetch))
	for k := range r.Prefetch {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(k) > 64 {
			return assist.E(assist.KindInvalid, op, "prefetch key too long")
		}
		if err := check("prefetch."+k, r.Prefetch[k]); err != nil {
			return err
		}
	}
	return nil
}

// resourceRef is the patient identity of one resource.
type resourceRef struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Subject      *struct {
		Reference string `json:"reference"`
	} `json:"subject"`
	Patient *struct {
		Reference string `json:"reference"`
	} `json:"patient"`
}

// about reports whether the resource is about patient id (or names no
// patient at all).
func (rr resourceRef) about(id string) bool {
	if rr.ResourceType == "Patient" && rr.ID != "" && rr.ID != id {
		return false
	}
	for _, ref := range []*struct {
		Reference string `json:"reference"`
	}{rr.Subject, rr.Patient} {
		if ref == nil {
			continue
		}
		if rest, ok := strings.CutPrefix(ref.Reference, "Patient/"); ok && rest != id && !strings.HasSuffix(ref.Reference, "/Patient/"+id) {
			return false
		}
		if i := strings.LastIndex(ref.Reference, "/Patient/"); i >= 0 && ref.Reference[i+len("/Patient/"):] != id {
			return false
		}
	}
	return true
}

// Evaluate parses the request's resources, assesses them and renders
// cards: the whole service call as a pure function. A request whose
// resources name another patient than context.patientId is refused; a
// request without the current medication list is assessed on its draft
// orders but says so, in a note on the result and an information card.
func Evaluate(kb *risk.KB, r *Request, now time.Time, opt CardOptions) (Response, risk.Result, error) {
	if err := r.CheckPatient(); err != nil {
		return Response{}, risk.Result{}, err
	}
	p, err := r.Input(now)
	if err != nil {
		return Response{}, risk.Result{}, err
	}
	if len(p.Input.Drugs) == 0 {
		// Nothing to check (e.g. a non-medication order): no cards.
		return Response{Cards: []Card{}}, risk.Result{KBVersion: kb.Version(), Flags: []risk.Flag{}, Notes: []risk.Note{}}, nil
	}
	res, err := risk.Assess(kb, p.Input)
	if err != nil {
		return Response{}, risk.Result{}, err
	}
	if !r.MedicationsProvided() {
		res.Notes = append([]risk.Note{risk.MedicationsNotProvidedNote()}, res.Notes...)
	}
	opt.hookInstance = r.HookInstance
	return Cards(res, p.Skipped, opt), res, nil
}

// uuidNamespace seeds the name-based (version 5) card and suggestion ids.
var uuidNamespace = uuid.MustParse("8d0f6b52-3c1e-4f57-9a2b-6e4d1c7f0a93")

// stableUUID derives an id from the given parts, so the same flag on the
// same drugs always gets the same id. Cards carry it in their extension
// (ExtStableID) for linking feedback across calls; their uuid is unique
// per response.
func stableUUID(parts ...string) string {
	return uuid.NewSHA1(uuidNamespace, []byte(strings.Join(parts, "\x1f"))).String()
}
