package main

import (
	"context"
	"log/slog"
	"maps"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/relay"
	"github.com/soteai/gateway/cmd/assistd/internal/httpapi"
	"github.com/soteai/gateway/cmd/internal/config"
)

// newAuditor opens the audit log. With auditing disabled it returns nil,
// and the relay serves unrecorded (allowed only by explicit configuration).
func newAuditor(ctx context.Context, cfg *config.Config, db *pgxpool.Pool, log *slog.Logger) (*audit.Log, error) {
	if !cfg.AuditEnabled() {
		log.Warn("the audit log is disabled by configuration: AI output is served unrecorded")
		return nil, nil
	}
	opts, err := cfg.AuditOptions(log)
	if err != nil {
		return nil, err
	}
	return audit.Open(ctx, db, opts)
}

// relayAuditor records the relay's events in the audit log.
type relayAuditor struct{ log *audit.Log }

var _ relay.Auditor = relayAuditor{}

func (a relayAuditor) Record(ctx context.Context, r relay.Record) (int64, error) {
	rcpt, err := a.log.Append(ctx, relayEvent(r))
	return rcpt.Seq, err
}

// taskAuditor records the calls of the task endpoints: retrieval searches
// and document changes, medication risk assessments.
type taskAuditor struct{ log *audit.Log }

var _ httpapi.TaskAuditor = taskAuditor{}

func (a taskAuditor) RecordTask(ctx context.Context, r httpapi.TaskRecord) (int64, error) {
	rcpt, err := a.log.Append(ctx, taskEvent(r))
	return rcpt.Seq, err
}

// relayEvent is the audit event of a compatible-API call. A stream's
// start record has no output hash yet; its end record repeats no input.
func relayEvent(r relay.Record) audit.Event {
	ev := audit.Event{
		Kind:         audit.EventKind(r.Kind),
		RequestID:    r.RequestID,
		Actor:        r.Actor,
		Task:         r.Task,
		Patient:      r.PatientRef,
		Model:        r.Model,
		ModelDigest:  r.ModelDigest,
		Host:         r.Host,
		InputHash:    r.InputSHA256,
		Output:       r.Output,
		Latency:      r.Latency,
		InputTokens:  r.PromptTokens,
		OutputTokens: r.OutputTokens,
		Outcome:      audit.Outcome(r.Outcome),
		ErrorKind:    r.ErrorKind,
		RelatesTo:    r.RelatesTo,
	}
	if r.Kind != string(audit.KindStreamStart) {
		ev.OutputHash = r.OutputSHA256
	}
	if r.Kind != string(audit.KindStreamEnd) {
		ev.Input = r.Input
	}
	return callEvent(ev, r.Route, r.Status)
}

// taskEvent is the audit event of a task endpoint's call.
func taskEvent(r httpapi.TaskRecord) audit.Event {
	return callEvent(audit.Event{
		Kind:        r.Kind,
		RequestID:   r.RequestID,
		Actor:       r.Actor,
		Task:        r.Task,
		Patient:     r.PatientRef,
		Model:       r.Model,
		ModelDigest: r.ModelDigest,
		Input:       r.Input,
		Output:      r.Output,
		InputHash:   r.InputSHA256,
		OutputHash:  r.OutputSHA256,
		Sources:     r.Sources,
		Latency:     r.Latency,
		Outcome:     audit.Outcome(r.Outcome),
		ErrorKind:   r.ErrorKind,
		Attrs:       maps.Clone(r.Attrs),
	}, r.Route, r.Status)
}

// callEvent completes the event of one API call: its route and HTTP status
// join the attrs, and when the client named no patient, a personal
// identity code in the recorded input links the record to the patient,
// pseudonymised like a named one.
func callEvent(ev audit.Event, route string, status int) audit.Event {
	if ev.Attrs == nil {
		ev.Attrs = make(map[string]string, 2)
	}
	ev.Attrs["route"], ev.Attrs["status"] = route, strconv.Itoa(status)
	if ev.Patient == "" {
		if codes := audit.FindHETU(string(ev.Input)); len(codes) > 0 {
			ev.Patient = codes[0]
		}
	}
	return ev
}
