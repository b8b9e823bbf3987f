package interpret

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	it "github.com/soteai/gateway/assist/interpret/interprettest"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/speech"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testWords = map[string][]string{
	"en": {"fever", "acute bronchitis cough", "pain", "headache"},
	"fi": {"kuume", "yskä", "kipu", "päänsärky"},
}

type rig struct {
	svc      *Service
	streamer *it.ToneStreamer // nil: the recogniser does not stream
	noVoice  map[string]bool  // languages without a synthesis voice
	log      *it.MemLog
	model    *it.EchoModel
	recog    *it.ToneRecognizer
	gloss    *memGlossary
	voice    *it.BeepVoice
}

func newRig(t testing.TB, cfg Config) *rig { return newRigStreaming(t, cfg, -1) }

// newRigStreaming makes a rig whose recogniser streams with free decoders
// (-1: it does not stream).
func newRigStreaming(t testing.TB, cfg Config, free int) *rig {
	t.Helper()
	r := &rig{log: &it.MemLog{}, model: &it.EchoModel{}, recog: &it.ToneRecognizer{Words: testWords}, voice: &it.BeepVoice{},
		gloss: &memGlossary{entries: []GlossaryEntry{
			{ID: "t1", Terms: map[string]string{"en": "fever", "fi": "kuume", "sv": "feber"}},
			{ID: "t2", Terms: map[string]string{"en": "acute bronchitis", "fi": "akuutti keuhkoputkentulehdus"}},
			{ID: "t3", Terms: map[string]string{"en": "bronchitis", "fi": "keuhkoputkentulehdus"}},
			{ID: "t4", Terms: map[string]string{"en": "cough syrup", "fi": "yskänlääke"}},
		}}}
	rec := record.New(record.Deps{Log: r.log, Models: r.model, Resolver: record.Configured{Default: "tiny"}})
	n := 0
	svc, err := New(cfg, Deps{
		Recognizer: func(lang string) (Recognizer, error) {
			if _, ok := testWords[lang]; !ok {
				return Recognizer{}, assist.Errorf(assist.KindInvalid, "no speech recogniser serves %s", lang)
			}
			rc := Recognizer{Transcriber: r.recog, Engine: "tone 1"}
			if r.streamer != nil {
				rc.Streaming = r.streamer
			}
			return rc, nil
		},
		Voice: func(lang string) (Voice, error) {
			if r.noVoice[lang] {
				return Voice{}, assist.Errorf(assist.KindInvalid, "no speech synthesis voice for language %q", lang)
			}
			return Voice{Synthesizer: r.voice, Engine: "beep 1"}, nil
		},
		Rec: rec, Glossary: r.gloss, Model: "tiny",
		NewID: func() string { n++; return "sess" + string(rune('0'+n)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if free >= 0 {
		r.streamer = &it.ToneStreamer{ToneRecognizer: r.recog, Free: free}
	}
	r.svc = svc
	t.Cleanup(svc.Close)
	return r
}

func start(rate int) Start {
	return Start{Type: "start", Audio: AudioFormat{Encoding: "pcm16le", SampleRate: rate},
		Parties: []Party{{Speaker: "clinician", Language: "en"}, {Speaker: "patient", Language: "fi"}}, Glossary: "terms", Patient: "010101-123N"}
}

func actorCtx(token string) context.Context {
	return assist.WithActor(context.Background(), assist.Actor{TokenID: token, Role: assist.RoleInterpreter})
}

// speak sends a tone burst (word k of the channel's language) followed by
// a pause, in 20 ms frames.
func speak(t testing.TB, s *Session, channel, k, rate int) {
	t.Helper()
	a := it.Silence(300*time.Millisecond, rate)
	a.Samples = append(a.Samples, it.Tone(float64(300*(k+1)), 800*time.Millisecond, rate).Samples...)
	a.Samples = append(a.Samples, it.Silence(900*time.Millisecond, rate).Samples...)
	for _, f := range it.Frames(a) {
		if err := s.Audio(channel, f); err != nil {
			t.Fatalf("Audio: %v", err)
		}
	}
}

// collect reads events until the session ends.
func collect(t *testing.T, s *Session) []Event {
	t.Helper()
	var evs []Event
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		ev, ok := s.Next(ctx)
		if !ok {
			break
		}
		evs = append(evs, ev)
	}
	if ctx.Err() != nil {
		t.Fatal("the session did not end")
	}
	s.Wait()
	return evs
}

func byType(evs []Event, typ string) []Event {
	var out []Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func TestSessionPipeline(t *testing.T) {
	modes := []struct {
		name string
		free int
	}{{"whole", -1}, {"streaming", 4}, {"no free decoder", 0}}
	for _, mode := range modes {
		for _, rate := range SampleRates {
			t.Run(mode.name+"/"+strconv.Itoa(rate), func(t *testing.T) { testPipeline(t, rate, mode.free) })
		}
	}
}

func testPipeline(t *testing.T, rate, free int) {
	{
		{
			r := newRigStreaming(t, Config{}, free)
			s, err := r.svc.Open(actorCtx("tok1"), start(rate))
			if err != nil {
				t.Fatal(err)
			}
			speak(t, s, 0, 0, rate) // "fever"
			speak(t, s, 1, 1, rate) // "yskä"
			speak(t, s, 0, 1, rate) // "acute bronchitis cough"
			s.Stop()
			evs := collect(t, s)
			if err := s.Err(); err != nil {
				t.Fatalf("Err = %v", err)
			}
			if evs[0].Type != EventReady || evs[0].Session != "sess1" || evs[0].Engines.Transcribers["fi"] != "tone 1" {
				t.Fatalf("first event %+v", evs[0])
			}
			finals, trans, sp := byType(evs, EventFinal), byType(evs, EventTranslation), byType(evs, EventSpeech)
			wantFinals := []string{"fever", "yskä", "acute bronchitis cough"}
			if len(finals) != 3 || len(trans) != 3 || len(sp) != 3 {
				t.Fatalf("finals %d, translations %d, speech %d; events %v", len(finals), len(trans), len(sp), types(evs))
			}
			for i, f := range finals {
				if f.Text != wantFinals[i] || f.Segment != trans[i].Segment || f.Segment != sp[i].Segment || f.AuditSeq == 0 ||
					*f.Confidence != 0.9 || f.End == nil || *f.End <= *f.Start || f.Latency == nil {
					t.Errorf("final %d: %+v", i, f)
				}
			}
			if finals[1].Speaker != "patient" || *finals[1].Channel != 1 || finals[1].Language != "fi" {
				t.Errorf("second final %+v", finals[1])
			}
			if trans[0].Text != "[Finnish] fever" || trans[1].Text != "[English] yskä" || trans[0].Model != "tiny@sha256:feed" {
				t.Errorf("translations %+v / %+v", trans[0], trans[1])
			}
			// Glossary: the entries found in the segment, longest first; "bronchitis"
			// alone is inside "acute bronchitis" and is found too; "cough syrup" is not said.
			if g := trans[2].Glossary; len(g) != 2 || g[0].ID != "t2" || g[1].ID != "t3" || len(trans[0].Glossary) != 1 {
				t.Errorf("glossary terms %+v, %+v", trans[0].Glossary, g)
			}
			prompts := r.model.AllPrompts()
			if !strings.Contains(prompts[2], "- acute bronchitis = akuutti keuhkoputkentulehdus") || strings.Contains(prompts[1], "glossary") {
				t.Errorf("prompts %q", prompts)
			}
			for _, e := range sp {
				a, err := speech.DecodeWAV(bytes.NewReader(e.WAV), speech.Limits{})
				if err != nil || a.Duration() < 200*time.Millisecond || e.DurationMS == 0 {
					t.Errorf("speech %s: %v %v", e.Segment, a.Duration(), err)
				}
			}
			last := evs[len(evs)-1]
			if last.Type != EventTranscript || len(last.Transcript) != 3 {
				t.Fatalf("last event %+v", last)
			}
			turn := last.Transcript[2]
			if turn.ID != "s3" || turn.Speaker != "clinician" || turn.Text != "acute bronchitis cough" || turn.Language != "en" ||
				len(turn.Translations) != 1 || turn.Translations[0].Language != "fi" || *turn.End <= *turn.Start {
				t.Errorf("turn %+v", turn)
			}
			checkAudit(t, r.log.Events())
			if r.streamer != nil {
				if r.streamer.OpenStreams() != 0 || (free > 0) != (r.streamer.Starts >= 3) {
					t.Errorf("streams: %d open, %d started", r.streamer.OpenStreams(), r.streamer.Starts)
				}
			}
		}
	}
}

func types(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// checkAudit: start, then per segment its final, translation, synthesis
// (each relating to the one before), then the end.
func checkAudit(t *testing.T, evs []audit.Event) {
	t.Helper()
	if len(evs) != 11 {
		t.Fatalf("%d audit records, want 11", len(evs))
	}
	if evs[0].Kind != KindSessionStart || evs[10].Kind != KindSessionEnd || evs[10].RelatesTo != 1 || evs[10].Outcome != audit.OutcomeOK {
		t.Errorf("start/end %+v / %+v", evs[0], evs[10])
	}
	for i := 1; i < 10; i += 3 {
		seg, tr, syn := evs[i], evs[i+1], evs[i+2]
		if seg.Kind != KindSegment || seg.Model != "tone 1" || seg.RelatesTo != 1 || len(seg.InputHash) != 32 || seg.Input != nil ||
			seg.Attrs["confidence"] != "0.900" || seg.Patient != "010101-123N" || seg.Actor.TokenID != "tok1" {
			t.Errorf("segment record %+v", seg)
		}
		if tr.Kind != audit.KindAIOutput || tr.Task != assist.TaskInterpret || tr.TemplateID != TranslateTemplateID ||
			tr.RelatesTo != int64(i+1) || tr.Model != "tiny" || tr.ModelDigest != "sha256:feed" || tr.Attrs["segment"] == "" {
			t.Errorf("translation record %+v", tr)
		}
		if syn.Kind != KindSynthesis || syn.RelatesTo != int64(i+2) || len(syn.OutputHash) != 32 || syn.Output != nil ||
			!strings.HasPrefix(syn.Model, "beep 1") {
			t.Errorf("synthesis record %+v", syn)
		}
	}
}

func TestStartRefused(t *testing.T) {
	r := newRig(t, Config{})
	mod := func(f func(*Start)) Start { s := start(16000); f(&s); return s }
	tests := []struct {
		name string
		st   Start
		kind assist.Kind
		msg  string
	}{
		{"rate", mod(func(s *Start) { s.Audio.SampleRate = 22050 }), assist.KindInvalid, "sample rate 22050"},
		{"encoding", mod(func(s *Start) { s.Audio.Encoding = "opus" }), assist.KindInvalid, "encoding"},
		{"one party", mod(func(s *Start) { s.Parties = s.Parties[:1] }), assist.KindInvalid, "2 to 4 parties"},
		{"language", mod(func(s *Start) { s.Parties[1].Language = "so" }), assist.KindInvalid, "no speech recogniser serves so"},
		{"bad tag", mod(func(s *Start) { s.Parties[1].Language = "fi1" }), assist.KindInvalid, "unknown language"},
		{"same speaker", mod(func(s *Start) { s.Parties[1].Speaker = "clinician" }), assist.KindInvalid, "distinct"},
		{"label", mod(func(s *Start) { s.Parties[0].Speaker = "dr <b>" }), assist.KindInvalid, "speaker label"},
		{"type", mod(func(s *Start) { s.Type = "correct" }), assist.KindInvalid, "first message"},
		{"nobody speaks", mod(func(s *Start) { s.Parties[0].ListenOnly, s.Parties[1].ListenOnly = true, true }), assist.KindInvalid, "at least one party must speak"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.svc.Open(actorCtx("tok"), tt.st)
			if assist.KindOf(err) != tt.kind || !strings.Contains(assist.MessageOf(err), tt.msg) {
				t.Fatalf("err = %v, want %s containing %q", err, tt.kind, tt.msg)
			}
		})
	}
	if r.svc.Active() != 0 || len(r.log.Events()) != 0 {
		t.Fatalf("refused starts left %d sessions, %d records", r.svc.Active(), len(r.log.Events()))
	}
}

func TestVoicesForTargetsOnly(t *testing.T) {
	r := newRig(t, Config{})
	r.noVoice = map[string]bool{"en": true}
	st := start(16000)
	st.Parties[1].ListenOnly = true // nothing is translated into English
	s, err := r.svc.Open(actorCtx("a"), st)
	if err != nil {
		t.Fatalf("a language nobody hears needs no voice: %v", err)
	}
	s.Stop()
	collect(t, s)
	st.Parties[1].ListenOnly = false
	if _, err := r.svc.Open(actorCtx("a"), st); assist.KindOf(err) != assist.KindInvalid || !strings.Contains(assist.MessageOf(err), "voice") {
		t.Fatalf("a heard language without a voice: %v", err)
	}
}

func TestSessionLimits(t *testing.T) {
	r := newRig(t, Config{MaxSessions: 3, MaxSessionsPerCaller: 2})
	var open []*Session
	for _, tok := range []string{"a", "a", "b"} {
		s, err := r.svc.Open(actorCtx(tok), start(16000))
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, s)
	}
	_, err := r.svc.Open(actorCtx("c"), start(16000))
	if assist.KindOf(err) != assist.KindBusy || !strings.Contains(assist.MessageOf(err), "as many interpretation sessions") {
		t.Fatalf("host limit: %v", err)
	}
	open[2].Abort()
	collect(t, open[2])
	_, err = r.svc.Open(actorCtx("a"), start(16000))
	if assist.KindOf(err) != assist.KindBusy || !strings.Contains(assist.MessageOf(err), "this credential") {
		t.Fatalf("caller limit: %v", err)
	}
	s, err := r.svc.Open(actorCtx("c"), start(16000))
	if err != nil {
		t.Fatalf("a freed slot: %v", err)
	}
	for _, s := range append(open[:2], s) {
		s.Stop()
		collect(t, s)
	}
	if r.svc.Active() != 0 {
		t.Fatalf("%d sessions still active", r.svc.Active())
	}
}

func TestCorrections(t *testing.T) {
	r := newRig(t, Config{})
	ctx := actorCtx("interp")
	s, err := r.svc.Open(ctx, start(16000))
	if err != nil {
		t.Fatal(err)
	}
	speak(t, s, 0, 2, 16000) // "pain"
	// Wait until the translation is there (the pipeline runs on its own).
	var evs []Event
	for len(byType(evs, EventSpeech)) == 0 {
		ev, ok := s.Next(context.Background())
		if !ok {
			t.Fatal("ended early")
		}
		evs = append(evs, ev)
	}
	bad := []struct {
		c    Correction
		kind assist.Kind
	}{
		{Correction{Segment: "s9", Field: "text", Text: "x"}, assist.KindNotFound},
		{Correction{Segment: "s1", Field: "speaker", Text: "x"}, assist.KindInvalid},
		{Correction{Segment: "s1", Field: "text", Text: "  "}, assist.KindInvalid},
		{Correction{Segment: "s1", Field: "text", Text: strings.Repeat("a", MaxCorrectionChars+1)}, assist.KindTooLarge},
	}
	for _, b := range bad {
		if err := s.Correct(ctx, b.c); assist.KindOf(err) != b.kind {
			t.Errorf("Correct(%+v) = %v, want %s", b.c.Field, err, b.kind)
		}
	}
	if err := s.Correct(ctx, Correction{Segment: "s1", Field: "translation", Text: "kipua"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Correct(ctx, Correction{Segment: "s1", Field: "text", Text: "chest pain", Retranslate: true}); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	evs = append(evs, collect(t, s)...)
	corr := byType(evs, EventCorrection)
	if len(corr) != 2 || corr[0].Field != "translation" || corr[0].Language != "fi" || corr[1].Text != "chest pain" {
		t.Fatalf("corrections %+v", corr)
	}
	trans := byType(evs, EventTranslation)
	if len(trans) != 2 || trans[1].Text != "[Finnish] chest pain" {
		t.Fatalf("retranslation %+v", trans)
	}
	tr := evs[len(evs)-1].Transcript
	if len(tr) != 1 || tr[0].Text != "chest pain" || !tr[0].Corrected || tr[0].Translations[0].Text != "[Finnish] chest pain" {
		t.Fatalf("transcript %+v", tr)
	}
	var reviews []audit.Event
	for _, e := range r.log.Events() {
		if e.Kind == audit.KindReview {
			reviews = append(reviews, e)
		}
	}
	if len(reviews) != 2 || reviews[0].Outcome != audit.OutcomeEdited || reviews[0].RelatesTo != 3 || string(reviews[0].Output) != "kipua" ||
		reviews[1].RelatesTo != 2 || string(reviews[1].Input) != "pain" || reviews[1].Actor.TokenID != "interp" || reviews[1].Attrs["field"] != "text" {
		t.Fatalf("review records %+v", reviews)
	}
}

func TestSlowReaderLosesOnlyPartials(t *testing.T) {
	o := newOutbox(4, 50*time.Millisecond)
	ctx := context.Background()
	for i := range 5 {
		o.putPartial(Event{Type: EventPartial, Speaker: "clinician", Text: strings.Repeat("a", i+1)})
	}
	o.putPartial(Event{Type: EventPartial, Speaker: "patient", Text: "p"})
	for i := range 4 {
		if err := o.put(ctx, Event{Type: EventFinal, Text: string(rune('0' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	// The queue is full: the next final waits for the reader, then fails as busy.
	if err := o.put(ctx, Event{Type: EventFinal}); assist.KindOf(err) != assist.KindBusy {
		t.Fatalf("put on a full queue: %v", err)
	}
	done := make(chan struct{})
	close(done)
	var got []string
	for {
		ev, ok := o.next(ctx, done)
		if !ok {
			break
		}
		got = append(got, ev.Type+":"+ev.Text)
		if ev.Type == EventPartial && ev.Speaker == "clinician" && ev.Dropped != 4 {
			t.Errorf("dropped = %d, want 4", ev.Dropped)
		}
	}
	want := "final:0 final:1 final:2 final:3 partial:aaaaa partial:p"
	if strings.Join(got, " ") != want {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func TestSlowReaderEndsSession(t *testing.T) {
	r := newRig(t, Config{EventQueue: 2, SlowClient: 100 * time.Millisecond})
	st := start(16000)
	f := false
	st.Synthesis, st.Partials = &f, &f
	s, err := r.svc.Open(actorCtx("a"), st)
	if err != nil {
		t.Fatal(err)
	}
	// Nobody reads: ready + final fill the queue, the translation cannot be queued.
	speak(t, s, 0, 0, 16000)
	speak(t, s, 0, 2, 16000)
	deadline := time.Now().Add(10 * time.Second)
	for s.ctx.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s.Stop()
	evs := collect(t, s)
	if assist.KindOf(s.Err()) != assist.KindBusy || !strings.Contains(assist.MessageOf(s.Err()), "does not read") {
		t.Fatalf("Err = %v", s.Err())
	}
	// What was queued is still delivered; nothing after the failure is claimed.
	if len(evs) != 2 || evs[0].Type != EventReady || evs[1].Type != EventFinal {
		t.Fatalf("events %v", types(evs))
	}
	ends := r.log.Events()
	if last := ends[len(ends)-1]; last.Kind != KindSessionEnd || last.Outcome != audit.OutcomeError || last.ErrorKind != assist.KindBusy {
		t.Fatalf("end record %+v", last)
	}
}

func TestAbortMidUtterance(t *testing.T) {
	for _, free := range []int{-1, 2} {
		t.Run(strconv.Itoa(free), func(t *testing.T) { testAbort(t, free) })
	}
}

func testAbort(t *testing.T, free int) {
	r := newRigStreaming(t, Config{}, free)
	r.model.Delay = time.Hour // a translation under way when the client goes
	s, err := r.svc.Open(actorCtx("a"), start(48000))
	if err != nil {
		t.Fatal(err)
	}
	speak(t, s, 0, 0, 48000)
	// Half an utterance, then the client vanishes.
	half := it.Silence(300*time.Millisecond, 48000)
	half.Samples = append(half.Samples, it.Tone(600, 400*time.Millisecond, 48000).Samples...)
	for _, f := range it.Frames(half) {
		if err := s.Audio(1, f); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	s.Abort()
	collect(t, s)
	if assist.KindOf(s.Err()) != assist.KindCanceled {
		t.Fatalf("Err = %v", s.Err())
	}
	if err := s.Audio(0, make([]byte, 640)); assist.KindOf(err) != assist.KindCanceled {
		t.Fatalf("audio after abort: %v", err)
	}
	s.Stop() // harmless after the end
	evs := r.log.Events()
	if last := evs[len(evs)-1]; last.Kind != KindSessionEnd || last.Outcome != audit.OutcomeCanceled {
		t.Fatalf("end record %+v", last)
	}
	if r.svc.Active() != 0 {
		t.Fatal("the session still counts")
	}
	if r.streamer != nil && r.streamer.OpenStreams() != 0 {
		t.Fatalf("%d streams left open", r.streamer.OpenStreams())
	}
}

func TestMalformedAudio(t *testing.T) {
	r := newRig(t, Config{MaxFrameBytes: 1000})
	st := start(16000)
	// A listener in a language no recogniser serves is fine.
	st.Parties[1].Channel = 1
	st.Parties = append(st.Parties, Party{Speaker: "nurse", Language: "so", Channel: 2, ListenOnly: true})
	s, err := r.svc.Open(actorCtx("a"), st)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		channel int
		pcm     []byte
		kind    assist.Kind
	}{
		{"listen-only party", 2, make([]byte, 640), assist.KindInvalid},
		{"odd length", 0, make([]byte, 641), assist.KindInvalid},
		{"unknown channel", 7, make([]byte, 640), assist.KindInvalid},
		{"empty", 0, nil, assist.KindInvalid},
		{"too large", 0, make([]byte, 1002), assist.KindTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Audio(tt.channel, tt.pcm)
			if assist.KindOf(err) != tt.kind {
				t.Fatalf("err = %v, want %s", err, tt.kind)
			}
			s.Report(err)
		})
	}
	speak(t, s, 0, 0, 16000) // the session goes on
	s.Stop()
	evs := collect(t, s)
	if errs := byType(evs, EventError); len(errs) != 5 || errs[0].Kind != assist.KindInvalid || !strings.Contains(errs[0].Message, "only listens") {
		t.Fatalf("error events %+v", errs)
	}
	if len(byType(evs, EventFinal)) != 1 || len(byType(evs, EventTranslation)) != 2 {
		t.Fatalf("events %v", types(evs))
	}
}

func TestAuditFailureWithholds(t *testing.T) {
	r := newRig(t, Config{})
	s, err := r.svc.Open(actorCtx("a"), start(16000))
	if err != nil {
		t.Fatal(err)
	}
	r.log.SetFail(true)
	speak(t, s, 0, 0, 16000)
	s.Stop()
	evs := collect(t, s)
	if len(byType(evs, EventFinal)) != 0 || len(byType(evs, EventTranslation)) != 0 {
		t.Fatalf("unrecorded output released: %v", types(evs))
	}
	if errs := byType(evs, EventError); len(errs) != 1 || errs[0].Kind != assist.KindUnavailable {
		t.Fatalf("errors %+v", errs)
	}
	// And a session cannot start unrecorded.
	if _, err := r.svc.Open(actorCtx("a"), start(16000)); assist.KindOf(err) != assist.KindUnavailable {
		t.Fatalf("Open with the log down: %v", err)
	}
}

func TestEngineFailures(t *testing.T) {
	r := newRig(t, Config{})
	r.recog.Fail = assist.E(assist.KindUnavailable, "asr", "the recogniser is down")
	s, err := r.svc.Open(actorCtx("a"), start(16000))
	if err != nil {
		t.Fatal(err)
	}
	speak(t, s, 0, 0, 16000)
	s.Stop()
	evs := collect(t, s)
	if errs := byType(evs, EventError); len(errs) != 1 || errs[0].Message != "the recogniser is down" {
		t.Fatalf("errors %+v", errs)
	}

	r = newRig(t, Config{})
	r.gloss.fail = assist.E(assist.KindNotFound, "q", "no such collection")
	r.voice.Fail = assist.E(assist.KindUnavailable, "tts", "espeak is missing")
	s, err = r.svc.Open(actorCtx("a"), start(16000))
	if err != nil {
		t.Fatal(err)
	}
	speak(t, s, 0, 0, 16000)
	s.Stop()
	evs = collect(t, s)
	errs := byType(evs, EventError)
	if len(errs) != 2 || !strings.Contains(errs[0].Message, "without it") || errs[1].Message != "espeak is missing" || len(byType(evs, EventTranslation)) != 1 {
		t.Fatalf("events %v, errors %+v", types(evs), errs)
	}
}

func TestMaxDuration(t *testing.T) {
	r := newRig(t, Config{MaxDuration: 100 * time.Millisecond})
	s, err := r.svc.Open(actorCtx("a"), start(16000))
	if err != nil {
		t.Fatal(err)
	}
	collect(t, s)
	if assist.KindOf(s.Err()) != assist.KindTimeout || !strings.Contains(assist.MessageOf(s.Err()), "maximum duration") {
		t.Fatalf("Err = %v", s.Err())
	}
}

func TestServiceClose(t *testing.T) {
	r := newRig(t, Config{})
	s, err := r.svc.Open(actorCtx("a"), start(16000))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			if _, ok := s.Next(context.Background()); !ok {
				return
			}
		}
	}()
	r.svc.Close()
	if _, err := r.svc.Open(actorCtx("a"), start(16000)); assist.KindOf(err) != assist.KindUnavailable {
		t.Fatalf("Open after Close: %v", err)
	}
}

func TestPartials(t *testing.T) {
	for _, free := range []int{-1, 2} {
		t.Run(strconv.Itoa(free), func(t *testing.T) { testPartials(t, free) })
	}
}

func testPartials(t *testing.T, free int) {
	r := newRigStreaming(t, Config{PartialEvery: 200 * time.Millisecond}, free)
	s, err := r.svc.Open(actorCtx("a"), start(16000))
	if err != nil {
		t.Fatal(err)
	}
	// A long utterance, fed at (faster than) real time, while a reader reads.
	evc := make(chan []Event)
	go func() { evc <- collect(t, s) }()
	long := it.Silence(300*time.Millisecond, 16000)
	long.Samples = append(long.Samples, it.Tone(1200, 3*time.Second, 16000).Samples...)
	for _, f := range it.Frames(long) {
		if err := s.Audio(0, f); err != nil {
			t.Error(err)
		}
		time.Sleep(time.Millisecond)
	}
	s.Stop()
	evs := <-evc
	parts := byType(evs, EventPartial)
	if len(parts) == 0 || parts[0].Text != "headache" || parts[0].Speaker != "clinician" {
		t.Fatalf("partials %+v (events %v)", parts, types(evs))
	}
	// Partials come before the final of their utterance.
	for i, e := range evs {
		if e.Type == EventFinal && i < len(evs)-1 && len(byType(evs[i:], EventPartial)) > 0 {
			t.Fatalf("a partial after its final: %v", types(evs))
		}
	}
}

func TestGlossaryHelpers(t *testing.T) {
	phrases := []struct {
		text, phrase string
		want         bool
	}{
		{"the patient has a fever", "fever", true},
		{"Fever and cough", "fever", true},
		{"feverish", "fever", false},
		{"acute bronchitis!", "acute bronchitis", true},
		{"Potilaalla on kuumetta", "kuume", false},
		{"on kuume.", "kuume", true},
		{"", "x", false},
	}
	for _, p := range phrases {
		if got := containsPhrase(p.text, p.phrase); got != p.want {
			t.Errorf("containsPhrase(%q, %q) = %v", p.text, p.phrase, got)
		}
	}
	if q := queryWords("The fever, the cough or a pain: 2 x", 3); q != "the or fever or cough" {
		t.Errorf("queryWords = %q", q)
	}
	f, err := os.Open("testdata/tico19_terminology_excerpt.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := ReadTICO19(f)
	if err != nil || len(entries) < 20 {
		t.Fatalf("ReadTICO19: %d entries, %v", len(entries), err)
	}
	for _, e := range entries {
		if e.Terms["en"] == "" || e.Terms["fi"] == "" || e.Terms["pos"] != "" {
			t.Fatalf("entry %+v", e)
		}
	}
	if _, err := ReadTICO19(strings.NewReader("{\"id\":\"x\",\"en\":\"a\"}\n")); assist.KindOf(err) != assist.KindInvalid {
		t.Errorf("one language: %v", err)
	}
	if _, err := ReadTICO19(strings.NewReader("[1]\n")); assist.KindOf(err) != assist.KindInvalid || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("not an object: %v", err)
	}
	req := entries[0].IngestRequest("glossary", "tico19")
	if req.Metadata["term.en"] != entries[0].Terms["en"] || !strings.Contains(string(req.Data), "fi: ") || req.Lang != "und" {
		t.Errorf("ingest request %+v", req)
	}
	_ = errors.New
}
