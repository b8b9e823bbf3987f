package fhirin

import (
	"encoding/json"
	"time"
)

// The few FHIR R4 structures the adapter reads. They are hand-written on
// purpose: the maintained Go FHIR model libraries are large generated
// packages (every resource and data type) or protobuf-based, while this
// adapter needs about twenty fields from six resources and must accept
// real-world bundles leniently (unknown fields and extensions ignored)
// while reporting precise, client-safe errors for what it does read.

type bundle struct {
	Type  string        `json:"type"`
	Entry []bundleEntry `json:"entry"`
}

type bundleEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
}

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type codeableConcept struct {
	Coding []coding `json:"coding"`
	Text   string   `json:"text"`
}

// code returns the first coding's code (for status concepts).
func (c *codeableConcept) code() string {
	for _, cd := range c.Coding {
		if cd.Code != "" {
			return cd.Code
		}
	}
	return ""
}

type reference struct {
	Reference string `json:"reference"`
	Display   string `json:"display"`
}

type quantity struct {
	Value  *float64 `json:"value"`
	Unit   string   `json:"unit"`
	System string   `json:"system"`
	Code   string   `json:"code"`
}

// unit prefers the UCUM code over the human-readable unit.
func (q *quantity) unit() string {
	if q.Code != "" {
		return q.Code
	}
	return q.Unit
}

type patient struct {
	ref       string
	ID        string `json:"id"`
	BirthDate string `json:"birthDate"`
	Gender    string `json:"gender"`
}

type medication struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id"`
	Code         *codeableConcept `json:"code"`
	Ingredient   []struct {
		Strength *ratio `json:"strength"`
	} `json:"ingredient"`
}

type ratio struct {
	Numerator   *quantity `json:"numerator"`
	Denominator *quantity `json:"denominator"`
}

type period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// medicationUse covers MedicationRequest and MedicationStatement.
type medicationUse struct {
	Status                    string            `json:"status"`
	MedicationCodeableConcept *codeableConcept  `json:"medicationCodeableConcept"`
	MedicationReference       *reference        `json:"medicationReference"`
	Contained                 []json.RawMessage `json:"contained"`
	// MedicationRequest.dosageInstruction, MedicationStatement.dosage.
	DosageInstruction []dosage `json:"dosageInstruction"`
	Dosage            []dosage `json:"dosage"`
	AuthoredOn        string   `json:"authoredOn"`
	EffectiveDateTime string   `json:"effectiveDateTime"`
	EffectivePeriod   *period  `json:"effectivePeriod"`
}

// dosage is the FHIR R4 Dosage data type (the parts the rules use).
type dosage struct {
	Sequence                *int             `json:"sequence"`
	Text                    string           `json:"text"`
	AsNeededBoolean         *bool            `json:"asNeededBoolean"`
	AsNeededCodeableConcept *codeableConcept `json:"asNeededCodeableConcept"`
	Timing                  *struct {
		Repeat *struct {
			BoundsDuration *quantity `json:"boundsDuration"`
			Frequency      *float64  `json:"frequency"`
			FrequencyMax   *float64  `json:"frequencyMax"`
			Period         *float64  `json:"period"`
			PeriodUnit     string    `json:"periodUnit"`
			When           []string  `json:"when"`
			TimeOfDay      []string  `json:"timeOfDay"`
		} `json:"repeat"`
		Code *codeableConcept `json:"code"`
	} `json:"timing"`
	DoseAndRate []struct {
		DoseQuantity *quantity `json:"doseQuantity"`
		DoseRange    *struct {
			Low  *quantity `json:"low"`
			High *quantity `json:"high"`
		} `json:"doseRange"`
	} `json:"doseAndRate"`
}

type observation struct {
	ref               string
	Status            string          `json:"status"`
	Code              codeableConcept `json:"code"`
	ValueQuantity     *quantity       `json:"valueQuantity"`
	EffectiveDateTime string          `json:"effectiveDateTime"`
	EffectivePeriod   *struct {
		End string `json:"end"`
	} `json:"effectivePeriod"`
	Issued string `json:"issued"`
}

// when returns the clinically relevant time, or the zero time.
func (o *observation) when() time.Time {
	for _, s := range []string{o.EffectiveDateTime, endOf(o.EffectivePeriod), o.Issued} {
		if t, ok := parseFHIRTime(s); ok {
			return t
		}
	}
	return time.Time{}
}

func endOf(p *struct {
	End string `json:"end"`
}) string {
	if p == nil {
		return ""
	}
	return p.End
}

func parseFHIRTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

type condition struct {
	ref                string
	ClinicalStatus     *codeableConcept `json:"clinicalStatus"`
	VerificationStatus *codeableConcept `json:"verificationStatus"`
	Code               *codeableConcept `json:"code"`
}
