package main

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/config"
	"github.com/soteai/gateway/assist/httpapi"
	"github.com/soteai/gateway/assist/relay"
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
		Latency:      r.Latency,
		InputTokens:  r.PromptTokens,
		OutputTokens: r.OutputTokens,
		Outcome:      audit.Outcome(r.Outcome),
		ErrorKind:    r.ErrorKind,
		RelatesTo:    r.RelatesTo,
		Attrs:        map[string]string{"route": r.Route, "status": strconv.Itoa(r.Status)},
	}
	if r.Kind != string(audit.KindStreamStart) {
		ev.OutputHash = r.OutputSHA256
	}
	if r.Kind != string(audit.KindStreamEnd) {
		ev.Input = r.Input
	}
	ev.Output = r.Output
	if ev.Patient == "" {
		// No patient header: a personal identity code in the prompt still
		// links the record to the patient, pseudonymised like the header.
		if codes := audit.FindHETU(string(r.Input)); len(codes) > 0 {
			ev.Patient = codes[0]
		}
	}
	rcpt, err := a.log.Append(ctx, ev)
	return rcpt.Seq, err
}

// riskAuditor records medication risk assessments.
type riskAuditor struct{ log *audit.Log }

var _ httpapi.RiskAuditor = riskAuditor{}

func (a riskAuditor) RecordRisk(ctx context.Context, r httpapi.RiskAudit) (int64, error) {
	attrs := map[string]string{"kb_version": r.KBVersion, "route": r.Route, "status": strconv.Itoa(r.Status),
		"flags": strconv.Itoa(r.Flags), "high_flags": strconv.Itoa(r.HighFlags)}
	if r.Hook != "" {
		attrs["hook"] = r.Hook
	}
	if r.Summary != "" {
		attrs["summary"] = r.Summary
	}
	rcpt, err := a.log.Append(ctx, audit.Event{
		Kind:      audit.KindRiskAssess,
		RequestID: r.RequestID,
		Actor:     r.Actor,
		Task:      assist.TaskRiskAssess,
		Patient:   r.PatientRef,
		Input:     r.Input,
		Output:    r.Output,
		Latency:   r.Latency,
		Outcome:   audit.Outcome(r.Outcome),
		ErrorKind: r.ErrorKind,
		Attrs:     attrs,
	})
	return rcpt.Seq, err
}

// retrievalAuditor records retrieval searches and document changes.
type retrievalAuditor struct{ log *audit.Log }

var _ httpapi.RetrievalAuditor = retrievalAuditor{}

func (a retrievalAuditor) RecordSearch(ctx context.Context, r httpapi.SearchAudit) (int64, error) {
	attrs := map[string]string{"route": "/v1/retrieval/search", "status": strconv.Itoa(r.Status)}
	if r.Collection != "" {
		attrs["collection"] = r.Collection
	}
	if r.Mode != "" {
		attrs["mode"] = string(r.Mode)
	}
	rcpt, err := a.log.Append(ctx, audit.Event{
		Kind:        audit.KindRetrievalSearch,
		RequestID:   r.RequestID,
		Actor:       r.Actor,
		Task:        assist.TaskRetrieval,
		Model:       r.Model.Name,
		ModelDigest: r.Model.Digest,
		Input:       r.Input,
		Output:      r.Output,
		Sources:     r.Sources,
		Latency:     r.Latency,
		Outcome:     audit.Outcome(r.Outcome),
		ErrorKind:   r.ErrorKind,
		Attrs:       attrs,
	})
	return rcpt.Seq, err
}

func (a retrievalAuditor) RecordDocumentChange(ctx context.Context, r httpapi.DocumentAudit) (int64, error) {
	kind := audit.KindRetrievalIngest
	switch r.Change {
	case httpapi.ChangeDelete:
		kind = audit.KindRetrievalDelete
	case httpapi.ChangeDeleteCollection:
		kind = audit.KindRetrievalDeleteCollection
	}
	attrs := map[string]string{"route": r.Route, "status": strconv.Itoa(r.Status), "collection": r.Collection}
	set := func(k, v string) {
		if v != "" {
			attrs[k] = v
		}
	}
	if r.DocumentID > 0 {
		attrs["document_id"] = strconv.FormatInt(r.DocumentID, 10)
	}
	set("source", r.Source)
	set("content_hash", r.ContentHash)
	set("put_status", string(r.PutStatus))
	set("lang", r.Lang)
	if r.Outcome == string(audit.OutcomeOK) {
		switch r.Change {
		case httpapi.ChangeIngest:
			attrs["chunks"], attrs["embedded"] = strconv.Itoa(r.Chunks), strconv.Itoa(r.Embedded)
		case httpapi.ChangeDeleteCollection:
			attrs["documents"], attrs["chunks"] = strconv.Itoa(r.Documents), strconv.Itoa(r.Chunks)
		}
	}
	rcpt, err := a.log.Append(ctx, audit.Event{
		Kind:        kind,
		RequestID:   r.RequestID,
		Actor:       r.Actor,
		Model:       r.Model.Name,
		ModelDigest: r.Model.Digest,
		InputHash:   r.InputSHA256,
		Output:      r.Output,
		Latency:     r.Latency,
		Outcome:     audit.Outcome(r.Outcome),
		ErrorKind:   r.ErrorKind,
		Attrs:       attrs,
	})
	return rcpt.Seq, err
}
