package clinic

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/retrieval"
)

// Author says who wrote a message of the conversation.
type Author string

const (
	AuthorPatient      Author = "patient"
	AuthorProfessional Author = "professional"
)

// Message is one chat message.
type Message struct {
	// ID is the chat platform's message id (used as the FHIR
	// Communication.inResponseTo reference); optional.
	ID     string     `json:"id,omitempty"`
	Author Author     `json:"author"`
	Time   *time.Time `json:"time,omitempty"`
	Text   string     `json:"text"`
}

// PatientContext is what the chat platform knows of the patient. Every
// field is optional.
type PatientContext struct {
	Age *int   `json:"age,omitempty"`
	Sex string `json:"sex,omitempty"` // female, male, other or unknown
	// Conditions are FHIR R4 Condition resources (ICD-10 codings are used).
	Conditions []json.RawMessage `json:"conditions,omitempty"`
	// Medications are FHIR R4 MedicationStatement resources (ATC codings
	// or the medication text are used).
	Medications []json.RawMessage `json:"medications,omitempty"`
}

// Request asks for a suggestion for one conversation.
type Request struct {
	Conversation []Message       `json:"conversation"`
	Patient      *PatientContext `json:"patient,omitempty"`
	// Collection is the county's instruction collection to cite.
	Collection string `json:"collection"`
	// Lang is the reply language (fi, sv, en); empty means the patient's.
	Lang string `json:"lang,omitempty"`
	// Subject is the patient's FHIR reference ("Patient/123"); it is
	// pseudonymised in the audit log and used in the FHIR output.
	Subject string `json:"subject,omitempty"`
}

// Limits bound one request.
type Limits struct {
	MaxMessages     int `yaml:"max_messages" json:"max_messages"`           // default 100
	MaxChars        int `yaml:"max_chars" json:"max_chars"`                 // whole conversation, default 20,000
	MaxMessageChars int `yaml:"max_message_chars" json:"max_message_chars"` // default 4,000
}

func (l Limits) withDefaults() Limits {
	if l.MaxMessages <= 0 {
		l.MaxMessages = 100
	}
	if l.MaxChars <= 0 {
		l.MaxChars = 20000
	}
	if l.MaxMessageChars <= 0 {
		l.MaxMessageChars = 4000
	}
	return l
}

// validate checks a request; errors are invalid or too_large and never
// quote the messages.
func (r *Request) validate(l Limits) error {
	const op = "clinic.validate"
	bad := func(format string, args ...any) error {
		return assist.E(assist.KindInvalid, op, fmt.Sprintf(format, args...))
	}
	if len(r.Conversation) == 0 {
		return bad("conversation: the thread is empty; send at least one patient message")
	}
	if len(r.Conversation) > l.MaxMessages {
		return assist.E(assist.KindTooLarge, op, fmt.Sprintf("conversation: %d messages; at most %d per request", len(r.Conversation), l.MaxMessages))
	}
	total, patient := 0, 0
	for i, m := range r.Conversation {
		switch m.Author {
		case AuthorPatient:
			patient++
		case AuthorProfessional:
		default:
			return bad("conversation[%d].author: must be patient or professional", i)
		}
		if !utf8.ValidString(m.Text) {
			return bad("conversation[%d].text: not valid UTF-8", i)
		}
		if strings.TrimSpace(m.Text) == "" {
			return bad("conversation[%d].text: empty message", i)
		}
		n := utf8.RuneCountInString(m.Text)
		if n > l.MaxMessageChars {
			return assist.E(assist.KindTooLarge, op, fmt.Sprintf("conversation[%d].text: %d characters; at most %d per message", i, n, l.MaxMessageChars))
		}
		total += n
		if len(m.ID) > 200 {
			return bad("conversation[%d].id: longer than 200 characters", i)
		}
	}
	if total > l.MaxChars {
		return assist.E(assist.KindTooLarge, op, fmt.Sprintf("conversation: %d characters; at most %d per request", total, l.MaxChars))
	}
	if patient == 0 {
		return bad("conversation: no message from the patient")
	}
	if err := retrieval.ValidCollectionName(r.Collection); err != nil {
		return bad("collection: %s", assist.MessageOf(err))
	}
	switch r.Lang {
	case "", "fi", "sv", "en":
	default:
		return bad("lang: must be fi, sv or en (or omitted)")
	}
	if len(r.Subject) > 200 {
		return bad("subject: longer than 200 characters")
	}
	if p := r.Patient; p != nil {
		if p.Age != nil && (*p.Age < 0 || *p.Age > 130) {
			return bad("patient.age: must be between 0 and 130 years")
		}
		switch p.Sex {
		case "", "female", "male", "other", "unknown":
		default:
			return bad("patient.sex: must be female, male, other or unknown")
		}
		if len(p.Conditions) > 300 || len(p.Medications) > 100 {
			return assist.E(assist.KindTooLarge, op, "patient: at most 300 conditions and 100 medications")
		}
	}
	return nil
}
