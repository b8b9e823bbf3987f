package httpapi

import (
	"context"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/relay"
)

// TaskRecord is one call of a task endpoint (a retrieval search or
// document change, a medication risk assessment), answered or refused, as
// it is written to the audit log.
type TaskRecord struct {
	Kind      audit.EventKind // e.g. risk.assess, retrieval.search, retrieval.ingest
	RequestID string
	Actor     assist.Actor
	Task      assist.Task // empty for admin changes
	Route     string      // the registered route, e.g. "/cds-services/:id"
	// PatientRef is the clear patient reference from the request; the
	// auditor pseudonymises it.
	PatientRef  string
	Model       string // model name, when a model took part
	ModelDigest string
	// Input and Output are the exact request and response bodies (Output
	// is nil for refusals). When a body is not to be recorded, its SHA-256
	// goes in InputSHA256 or OutputSHA256 instead.
	Input, Output             []byte
	InputSHA256, OutputSHA256 []byte
	Sources                   []string // ids of the returned sources, in rank order
	Latency                   time.Duration
	Outcome                   string // "ok" or "error"
	// ErrorKind is the refusal's kind; Status the HTTP status sent.
	ErrorKind assist.Kind
	Status    int
	// Attrs are the endpoint's own small facts: knowledge-base version,
	// flag counts, collection, document id, content hash.
	Attrs map[string]string
}

// setAttr sets attribute k unless v is empty.
func (r *TaskRecord) setAttr(k, v string) {
	if v == "" {
		return
	}
	if r.Attrs == nil {
		r.Attrs = map[string]string{}
	}
	r.Attrs[k] = v
}

// TaskAuditor durably records a task endpoint's call and returns the
// record's sequence number. Errors: unavailable when the log cannot be
// written.
type TaskAuditor interface {
	RecordTask(ctx context.Context, r TaskRecord) (int64, error)
}

// recordTask records a call whose answer is ready, before it is released,
// and sets the relay.SeqHeader header to the record's sequence number. It
// fills in the request id, the actor, the route and the latency since
// start. When the record cannot be written it returns unavailable with the
// client message notRecorded, and the caller must release nothing. A nil
// auditor (auditing disabled by configuration) records nothing.
func recordTask(c echo.Context, a TaskAuditor, rec TaskRecord, start time.Time, notRecorded string) error {
	seq, err := writeTask(c, a, rec, start)
	if err != nil {
		return assist.E(assist.KindUnavailable, "httpapi.recordTask", notRecorded, err)
	}
	if seq > 0 {
		c.Response().Header().Set(relay.SeqHeader, strconv.FormatInt(seq, 10))
	}
	return nil
}

// refuseTask records a refused call, best effort, and returns err: the
// refusal is answered even when its record cannot be written.
func refuseTask(c echo.Context, a TaskAuditor, rec TaskRecord, start time.Time, err error) error {
	rec.Outcome, rec.ErrorKind, rec.Status = "error", assist.KindOf(err), Status(assist.KindOf(err))
	_, _ = writeTask(c, a, rec, start)
	return err
}

func writeTask(c echo.Context, a TaskAuditor, rec TaskRecord, start time.Time) (int64, error) {
	if a == nil {
		return 0, nil
	}
	rec.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	rec.Actor = actorOf(c)
	if rec.Route == "" {
		rec.Route = c.Path()
	}
	rec.Latency = time.Since(start)
	return a.RecordTask(c.Request().Context(), rec)
}
