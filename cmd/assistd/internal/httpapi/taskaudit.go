package httpapi

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/record"
)

// TaskRecord is one call of a task endpoint (a retrieval search or
// document change, a medication risk assessment), answered or refused, as
// it is written to the audit log by the one audited call (assist/record).
type TaskRecord = record.Entry

// setAttr sets attribute k of r unless v is empty.
func setAttr(r *TaskRecord, k, v string) {
	if v == "" {
		return
	}
	if r.Attrs == nil {
		r.Attrs = map[string]string{}
	}
	r.Attrs[k] = v
}

// recordTask records a call whose answer is ready, before it is released,
// and sets the record.SeqHeader header to the record's sequence number.
// It fills in the request id, the actor, the route, the status and the
// latency since start. When the record cannot be written it returns
// unavailable with the client message notRecorded, and the caller must
// release nothing. With auditing disabled it records nothing.
func recordTask(c echo.Context, rec *record.Recorder, e TaskRecord, start time.Time, notRecorded string) error {
	seq, err := rec.Commit(c.Request().Context(), taskEntry(c, e, start))
	if err != nil {
		return assist.E(assist.KindUnavailable, "httpapi.recordTask", notRecorded, err)
	}
	if seq > 0 {
		c.Response().Header().Set(record.SeqHeader, record.FormatSeq(seq))
	}
	return nil
}

// refuseTask records a refused call, best effort, and returns err: the
// refusal is answered even when its record cannot be written.
func refuseTask(c echo.Context, rec *record.Recorder, e TaskRecord, start time.Time, err error) error {
	e = taskEntry(c, e, start)
	e.Status = Status(assist.KindOf(err))
	return rec.Refuse(c.Request().Context(), e, err)
}

func taskEntry(c echo.Context, e TaskRecord, start time.Time) TaskRecord {
	e.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	e.Actor = actorOf(c)
	if e.Route == "" {
		e.Route = c.Path()
	}
	e.Latency = time.Since(start)
	return e
}
