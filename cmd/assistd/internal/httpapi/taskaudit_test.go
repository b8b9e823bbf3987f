package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/record"
)

// fakeTaskAuditor is an in-memory audit log; err makes it fail. It keeps
// each task record as the endpoint described it.
type fakeTaskAuditor struct {
	mu   sync.Mutex
	recs []taskRec
	err  error
}

// taskRec is a recorded event seen as the endpoint's task record.
type taskRec struct {
	audit.Event
	Route                     string
	Status                    int
	PatientRef                string
	InputSHA256, OutputSHA256 []byte
}

var _ record.Log = (*fakeTaskAuditor)(nil)

func (f *fakeTaskAuditor) Append(_ context.Context, ev audit.Event) (audit.Receipt, error) {
	if f.err != nil {
		return audit.Receipt{}, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	st, _ := strconv.Atoi(ev.Attrs["status"])
	f.recs = append(f.recs, taskRec{Event: ev, Route: ev.Attrs["route"], Status: st, PatientRef: ev.Patient,
		InputSHA256: ev.InputHash, OutputSHA256: ev.OutputHash})
	return audit.Receipt{Seq: int64(len(f.recs))}, nil
}

// recorderOf records into f (nil: auditing disabled).
func recorderOf(f *fakeTaskAuditor) *record.Recorder {
	if f == nil {
		return record.New(record.Deps{})
	}
	return record.New(record.Deps{Log: f})
}

// TestRecordTask checks the shared audit helpers of the task endpoints:
// what they fill in, the sequence header, failing closed on answers and
// best effort on refusals.
func TestRecordTask(t *testing.T) {
	refusal := assist.E(assist.KindConflict, "t", "taken")
	tests := []struct {
		name     string
		auditor  func() *fakeTaskAuditor
		refuse   error // call refuseTask with it instead of recordTask
		wantErr  assist.Kind
		wantMsg  string
		wantSeq  string
		wantRecs int
	}{
		{name: "answer recorded", auditor: recording(nil), wantSeq: "1", wantRecs: 1},
		{name: "answer not recorded fails closed", auditor: recording(errors.New("down")),
			wantErr: assist.KindUnavailable, wantMsg: "not released"},
		{name: "auditing disabled", auditor: func() *fakeTaskAuditor { return nil }},
		{name: "refusal recorded", auditor: recording(nil), refuse: refusal, wantErr: assist.KindConflict, wantRecs: 1},
		{name: "refusal answered when not recorded", auditor: recording(errors.New("down")), refuse: refusal, wantErr: assist.KindConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := tt.auditor()
			a := recorderOf(fake)
			e := echo.New()
			req := httptest.NewRequest(http.MethodPost, "/v1/x/7", nil)
			rec := httptest.NewRecorder()
			c := e.NewContext(req, rec)
			c.SetPath("/v1/x/:id")
			c.Set(actorKey, assist.Actor{TokenID: "t1", Role: assist.RoleClinician})
			c.Response().Header().Set(echo.HeaderXRequestID, "req-1")
			tr := TaskRecord{Event: audit.Event{Kind: audit.KindRetrievalSearch, Outcome: "ok", Attrs: map[string]string{"k": "v"}}, Status: 200}
			var err error
			if tt.refuse != nil {
				err = refuseTask(c, a, tr, time.Now(), tt.refuse)
			} else {
				err = recordTask(c, a, tr, time.Now(), "the audit log cannot be written; the answer was not released")
			}
			if (err == nil) != (tt.wantErr == "") || err != nil && assist.KindOf(err) != tt.wantErr {
				t.Fatalf("error %v, want kind %q", err, tt.wantErr)
			}
			if tt.wantMsg != "" && !strings.Contains(assist.MessageOf(err), tt.wantMsg) {
				t.Errorf("message %q lacks %q", assist.MessageOf(err), tt.wantMsg)
			}
			if got := rec.Header().Get(record.SeqHeader); got != tt.wantSeq {
				t.Errorf("%s %q, want %q", record.SeqHeader, got, tt.wantSeq)
			}
			if fake == nil {
				return
			}
			if len(fake.recs) != tt.wantRecs {
				t.Fatalf("%d records, want %d", len(fake.recs), tt.wantRecs)
			}
			if tt.wantRecs == 0 {
				return
			}
			r := fake.recs[0]
			if r.RequestID != "req-1" || r.Actor.TokenID != "t1" || r.Route != "/v1/x/:id" || r.Attrs["k"] != "v" {
				t.Errorf("record %+v", r)
			}
			if tt.refuse != nil && (r.Outcome != "error" || r.ErrorKind != assist.KindConflict || r.Status != http.StatusConflict) {
				t.Errorf("refusal record %+v", r)
			}
		})
	}
}

func recording(err error) func() *fakeTaskAuditor {
	return func() *fakeTaskAuditor { return &fakeTaskAuditor{err: err} }
}

func TestLogSafeMasksIdentityCodes(t *testing.T) {
	err := fmt.Errorf("store: row for 131052-308T failed: %w", errors.New("boom"))
	if got := logSafe(err); strings.Contains(got, "131052-308T") || !strings.Contains(got, "[identity code]") {
		t.Fatalf("logSafe = %q", got)
	}
}
