package assist

import "fmt"

// Role is what an authenticated caller may do.
type Role string

const (
	RoleClinician    Role = "clinician"
	RoleInterpreter  Role = "interpreter"
	RoleRiskReviewer Role = "risk_reviewer"
	RoleAdmin        Role = "admin"
	RoleService      Role = "service" // an EHR integration
)

// Roles lists every role in a stable order.
var Roles = []Role{RoleClinician, RoleInterpreter, RoleRiskReviewer, RoleAdmin, RoleService}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", Errorf(KindInvalid, "unknown role %q (want one of clinician, interpreter, risk_reviewer, admin, service)", s)
}

// Actor is the authenticated caller of a request.
type Actor struct {
	TokenID      string // id of the bearer token or registered Ollama key
	Name         string // human label of the credential
	Role         Role
	Organisation string
}

// Priority is a request's scheduling class. Lower values are served first.
type Priority int

const (
	PriorityRealtime    Priority = iota // live interpretation
	PriorityInteractive                 // a clinician is waiting
	PriorityBatch                       // evals, re-indexing
	NumPriorities
)

func (p Priority) String() string {
	switch p {
	case PriorityRealtime:
		return "realtime"
	case PriorityInteractive:
		return "interactive"
	case PriorityBatch:
		return "batch"
	}
	return fmt.Sprintf("priority(%d)", int(p))
}

// ParsePriority validates a priority class name; "" means interactive.
func ParsePriority(s string) (Priority, error) {
	switch s {
	case "realtime":
		return PriorityRealtime, nil
	case "", "interactive":
		return PriorityInteractive, nil
	case "batch":
		return PriorityBatch, nil
	}
	return 0, Errorf(KindInvalid, "unknown priority %q (want realtime, interactive or batch)", s)
}

// Task names the purpose of an AI event; it is recorded in the audit log.
type Task string

const (
	TaskChat        Task = "chat"      // compatible chat/generate APIs
	TaskEmbed       Task = "embed"     // compatible embedding APIs
	TaskRetrieval   Task = "retrieval" // retrieval search
	TaskRiskAssess  Task = "risk_assess"
	TaskRiskSummary Task = "risk_summary"
	TaskSummary     Task = "visit_summary"
	TaskInterpret   Task = "interpretation"
	TaskEval        Task = "eval"
	TaskClinic      Task = "clinic"           // digital clinic: urgency and reply drafts
	TaskTranscribe  Task = "transcription"    // speech recognition (POST /v1/audio/transcriptions)
	TaskSynthesize  Task = "speech_synthesis" // speech synthesis (POST /v1/audio/speech)
)
