package assist

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies an error for clients. The set is append-only: a kind's
// name is part of the public API (the "kind" field of every error body).
type Kind string

const (
	KindInvalid      Kind = "invalid"      // malformed or semantically wrong input (400)
	KindUnauthorized Kind = "unauthorized" // no or bad credentials (401)
	KindForbidden    Kind = "forbidden"    // authenticated, but the role may not do this (403)
	KindNotFound     Kind = "not_found"    // no such resource, or not visible to the caller (404)
	KindConflict     Kind = "conflict"     // state conflict, e.g. duplicate or mismatched model (409)
	KindTooLarge     Kind = "too_large"    // body or input over a configured limit (413)
	KindBusy         Kind = "busy"         // queue full or wait too long; retry later (429)
	KindUnavailable  Kind = "unavailable"  // no host or store can serve now (503)
	KindUpstream     Kind = "upstream"     // an upstream host failed mid-way (502)
	KindTimeout      Kind = "timeout"      // a deadline passed (504)
	KindCanceled     Kind = "canceled"     // the client went away (499, logged only)
	KindInternal     Kind = "internal"     // a bug or unexpected failure (500)
)

// Error is the gateway's error value. Message is shown to clients and must
// never contain patient text, prompts or internal details; Err carries the
// underlying cause for logs and is never rendered to clients.
type Error struct {
	Kind    Kind
	Op      string // operation, e.g. "models.Acquire"
	Message string // safe, human-readable message for the client
	Err     error  // underlying cause, logged only
	// RetryAfter, when non-zero, is a hint in seconds for KindBusy and
	// KindUnavailable responses.
	RetryAfter int
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = string(e.Kind)
	}
	switch {
	case e.Op != "" && e.Err != nil:
		return fmt.Sprintf("%s: %s: %v", e.Op, msg, e.Err)
	case e.Op != "":
		return e.Op + ": " + msg
	case e.Err != nil:
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error. Arguments are interpreted by type: a Kind sets the
// kind, an error sets the cause, the first string the operation and the
// second string the client message, an int the Retry-After hint.
func E(args ...any) *Error {
	e := &Error{}
	strs := 0
	for _, a := range args {
		switch v := a.(type) {
		case Kind:
			e.Kind = v
		case error:
			e.Err = v
		case string:
			if strs == 0 {
				e.Op = v
			} else {
				e.Message = v
			}
			strs++
		case int:
			e.RetryAfter = v
		}
	}
	if e.Kind == "" {
		if inner := (*Error)(nil); errors.As(e.Err, &inner) {
			e.Kind = inner.Kind
			if e.Message == "" {
				e.Message = inner.Message
			}
			if e.RetryAfter == 0 {
				e.RetryAfter = inner.RetryAfter
			}
		} else {
			e.Kind = KindInternal
		}
	}
	return e
}

// Errorf is a shorthand for an error of kind k with a client message.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the outermost *Error in err's chain,
// KindCanceled for context cancellation, and KindInternal otherwise.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// MessageOf returns the client-safe message of err: the Message of the
// outermost *Error that has one, or a generic text for the kind.
func MessageOf(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			break
		}
		if e.Message != "" {
			return e.Message
		}
		err = e.Err
	}
	return DefaultMessage(KindOf(err))
}

// RetryAfterOf returns the Retry-After hint in seconds carried by err, or 0.
func RetryAfterOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// DefaultMessage is the generic client message for a kind.
func DefaultMessage(k Kind) string {
	switch k {
	case KindInvalid:
		return "the request is invalid"
	case KindUnauthorized:
		return "authentication is required"
	case KindForbidden:
		return "your role may not do this"
	case KindNotFound:
		return "not found"
	case KindConflict:
		return "the request conflicts with the current state"
	case KindTooLarge:
		return "the request is too large"
	case KindBusy:
		return "the gateway is busy; retry later"
	case KindUnavailable:
		return "the service is unavailable; retry later"
	case KindUpstream:
		return "the model host failed"
	case KindTimeout:
		return "the request took too long"
	case KindCanceled:
		return "the request was canceled"
	}
	return "internal error"
}

// ContextError is the error for work stopped because ctx ended: timeout
// (504) when its deadline passed — the gateway's own request_timeout or a
// deadline set inside it — and canceled (499) when the client went away.
// A timeout is never a cancellation: answers, metrics and audit records
// tell them apart.
func ContextError(op string, ctx context.Context) *Error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		return E(KindTimeout, op, "the request took longer than the gateway's time limit", err)
	}
	return E(KindCanceled, op, err)
}
