package auth

import (
	"github.com/soteai/gateway/assist"
)

// PriorityPolicy decides which scheduling class a caller may use: the
// class is a privilege (a realtime request overtakes everyone's work), so
// each role, and optionally each credential, has a highest class.
type PriorityPolicy struct {
	// ByRole is the highest class per role; a role not listed may use
	// interactive at most.
	ByRole map[assist.Role]assist.Priority
	// ByCredential overrides ByRole for single credentials (token or key
	// id), e.g. the one EHR integration that runs interpretation.
	ByCredential map[string]assist.Priority
	// Lower serves a request above the ceiling at the ceiling instead of
	// refusing it.
	Lower bool
}

// DefaultPriorityPolicy lets interpreters use realtime and everyone else
// interactive at most; requests above the ceiling are refused.
func DefaultPriorityPolicy() PriorityPolicy {
	return PriorityPolicy{ByRole: map[assist.Role]assist.Priority{
		assist.RoleInterpreter:  assist.PriorityRealtime,
		assist.RoleClinician:    assist.PriorityInteractive,
		assist.RoleRiskReviewer: assist.PriorityInteractive,
		assist.RoleService:      assist.PriorityInteractive,
		assist.RoleAdmin:        assist.PriorityInteractive,
	}}
}

// Ceiling is the highest class a may use.
func (p PriorityPolicy) Ceiling(a assist.Actor) assist.Priority {
	if c, ok := p.ByCredential[a.TokenID]; ok {
		return c
	}
	if c, ok := p.ByRole[a.Role]; ok {
		return c
	}
	return assist.PriorityInteractive
}

// Decide returns the class to serve a's request at. A request above the
// ceiling is lowered to it (Lower) or refused. Errors: forbidden.
func (p PriorityPolicy) Decide(a assist.Actor, requested assist.Priority) (assist.Priority, error) {
	ceiling := p.Ceiling(a)
	if requested >= ceiling { // lower values are served first
		return requested, nil
	}
	if p.Lower {
		return ceiling, nil
	}
	return 0, assist.E(assist.KindForbidden, "auth.PriorityPolicy",
		"this credential may use priority classes up to '"+ceiling.String()+"'; '"+requested.String()+"' was requested")
}
