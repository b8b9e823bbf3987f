package interpret

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/speech"
)

// Audit record kinds of a session.
const (
	KindSessionStart audit.EventKind = "interpret.session.start"
	KindSessionEnd   audit.EventKind = "interpret.session.end"
	KindSegment      audit.EventKind = "interpret.segment"   // a final segment; Model = recogniser
	KindSynthesis    audit.EventKind = "interpret.synthesis" // a translation spoken; Model = synthesizer
	// Translations are ai.output records of the audited model call
	// (template interpret.translate); corrections are review records with
	// outcome edited.
)

// channel is one party's audio path.
type channel struct {
	idx     int
	party   Party
	targets []string // languages its speech is translated into
	recog   Recognizer
	rs      *speech.Resampler
	seg     *speech.Segmenter
	buf     []float32
	gen     int   // utterance number: a partial of an older one is dropped
	partAt  int   // samples of the utterance at the last partial request
	samples int64 // samples received at the engine rate

	// The utterance being recognised while spoken (streaming engines).
	smu     sync.Mutex
	stream  speech.Stream // nil when not streaming this utterance
	written int           // samples of the utterance written to stream
	noSlot  bool          // no decoder was free: this utterance goes whole
	closed  bool          // the session has ended: start no stream
}

// job is work for the session's pipeline: a finished utterance, or a
// corrected segment to translate again.
type job struct {
	ch    *channel
	utt   speech.Utterance
	ended time.Time // when the voice-activity detector ended it
	redo  *segment
	// stream recognised the utterance while it was spoken, up to written
	// samples (nil: transcribe it whole).
	stream  speech.Stream
	written int
}

type partialJob struct {
	ch  *channel
	gen int
	utt speech.Utterance
}

// segment is a final segment and what became of it.
type segment struct {
	id          string
	ch          *channel
	start, end  time.Duration
	text        string
	seq         int64 // its audit record (the latest correction's, once corrected)
	trans       map[string]string
	transSeq    map[string]int64
	corrected   bool
	translating bool
}

// Session is one interpretation session. Audio, Correct and Stop are
// called from one goroutine (the client's reader); Next from another (the
// writer). It is ended by Stop (graceful: pending speech is processed and
// a transcript sent), Abort (the client went away) or a fatal error.
type Session struct {
	ID string

	svc      *Service
	start    Start
	caller   string
	ctx      context.Context
	cancel   context.CancelFunc
	out      *outbox
	chans    map[int]*channel
	order    []*channel
	voices   map[string]Voice
	startSeq int64
	synth    bool
	partials bool

	jobs     chan job
	enqMu    sync.Mutex // orders enqueue against closeStreams' drain
	partialQ chan partialJob
	done     chan struct{} // closed when no more events will be put
	wg       sync.WaitGroup
	timer    *time.Timer

	mu sync.Mutex
	// partialStop cancels the partial caption being recognised, when its
	// utterance has ended (the final needs the CPU more).
	partialStop context.CancelFunc
	partialCh   *channel
	stopped     bool
	segs        []*segment
	byID        map[string]*segment
	err         error
	nextSeg     int
	finished    bool
}

// Open starts a session for the caller in ctx (its actor and request id
// are recorded). Errors: invalid for a bad start message or a language no
// engine serves; busy over the session limits; unavailable when the audit
// log cannot record the start.
func (s *Service) Open(ctx context.Context, st Start) (*Session, error) {
	if err := st.normalize(); err != nil {
		return nil, err
	}
	sess := &Session{svc: s, start: st, synth: on(st.Synthesis) && s.d.Voice != nil, partials: on(st.Partials),
		chans: map[int]*channel{}, voices: map[string]Voice{}, byID: map[string]*segment{}}
	if on(st.Synthesis) && s.d.Voice == nil {
		return nil, assist.E(assist.KindInvalid, "interpret.Open", "speech synthesis is not available on this gateway: start with \"synthesis\": false")
	}
	if st.Glossary != "" && s.d.Glossary == nil {
		return nil, assist.E(assist.KindInvalid, "interpret.Open", "glossaries are not available on this gateway")
	}
	engines := &Engines{Transcribers: map[string]string{}, Synthesizers: map[string]string{}, Translation: s.d.Model}
	for i, p := range st.Parties {
		ch := &channel{idx: i, party: p}
		if !p.ListenOnly {
			r, err := s.d.Recognizer(p.Language)
			if err != nil {
				return nil, err
			}
			ch.recog = r
			engines.Transcribers[p.Language] = r.Engine
		}
		var err error
		for _, q := range st.Parties {
			if q.Language != p.Language && !contains(ch.targets, q.Language) {
				ch.targets = append(ch.targets, q.Language)
			}
		}
		if ch.rs, err = speech.NewResampler(st.Audio.SampleRate, speech.EngineSampleRate); err != nil {
			return nil, err
		}
		if ch.seg, err = speech.NewSegmenter(s.cfg.VAD); err != nil {
			return nil, err
		}
		sess.chans[p.Channel] = ch
		sess.order = append(sess.order, ch)
	}
	// A voice for every language something is translated into.
	for _, ch := range sess.order {
		if !sess.synth || ch.party.ListenOnly {
			continue
		}
		for _, lang := range ch.targets {
			if _, ok := sess.voices[lang]; !ok {
				v, err := s.d.Voice(lang)
				if err != nil {
					return nil, err
				}
				sess.voices[lang] = v
				engines.Synthesizers[lang] = v.Engine
			}
		}
	}
	actor, _ := assist.ActorFrom(ctx)
	sess.caller = actor.TokenID
	if err := s.admit(sess.caller); err != nil {
		return nil, err
	}
	sess.ID = s.d.NewID()
	sess.ctx, sess.cancel = context.WithCancel(context.WithoutCancel(ctx))
	stopBase := context.AfterFunc(s.base, sess.cancel)
	sess.out = newOutbox(s.cfg.EventQueue, s.cfg.SlowClient)
	sess.jobs = make(chan job, s.cfg.UtteranceQueue)
	sess.partialQ = make(chan partialJob, 1)
	sess.done = make(chan struct{})

	langs := make([]string, len(st.Parties))
	for i, p := range st.Parties {
		langs[i] = p.Speaker + ":" + p.Language
	}
	attrs := sess.attrs(map[string]string{
		"parties": strings.Join(langs, ","), "sample_rate": strconv.Itoa(st.Audio.SampleRate),
		"synthesis": strconv.FormatBool(sess.synth), "glossary": st.Glossary,
		"asr_engines": joinEngines(engines.Transcribers), "tts_engines": joinEngines(engines.Synthesizers),
	})
	seq, err := s.d.Rec.Commit(ctx, record.Entry{Event: audit.Event{Kind: KindSessionStart, Task: assist.TaskInterpret,
		Patient: st.Patient, Model: s.d.Model, Outcome: audit.OutcomeOK, Attrs: attrs}})
	if err != nil {
		stopBase()
		sess.cancel()
		s.release(sess.caller)
		return nil, err
	}
	sess.startSeq = seq
	sess.timer = time.AfterFunc(s.cfg.MaxDuration, func() {
		sess.fail(assist.E(assist.KindTimeout, "interpret.Session",
			fmt.Sprintf("the session reached its maximum duration of %s", s.cfg.MaxDuration)))
	})
	synth := sess.synth
	sess.out.must <- Event{Type: EventReady, Session: sess.ID, Parties: st.Parties, Engines: engines, Synthesis: &synth}
	sess.wg.Add(2)
	go func() {
		defer sess.wg.Done()
		defer stopBase()
		sess.run()
	}()
	go func() {
		defer sess.wg.Done()
		sess.runPartials()
	}()
	return sess, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func joinEngines(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for l, e := range m {
		parts = append(parts, l+"="+e)
	}
	sort.Strings(parts)
	return strings.Join(parts, ";")
}

func (s *Session) attrs(m map[string]string) map[string]string {
	m["session"] = s.ID
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

// Audio takes one frame of PCM16 little-endian mono audio of the party on
// channel. Errors: invalid for a frame that is not PCM16 or an unknown
// channel, too_large over MaxFrameBytes (the frame is ignored and the
// session goes on); busy when the pipeline cannot keep up (fatal);
// canceled once the session has ended.
func (s *Session) Audio(channel int, pcm []byte) error {
	const op = "interpret.Audio"
	if err := s.ctx.Err(); err != nil {
		return assist.E(assist.KindCanceled, op, "the session has ended", err)
	}
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		return assist.E(assist.KindInvalid, op, "audio after stop is ignored")
	}
	ch, ok := s.chans[channel]
	switch {
	case !ok:
		return assist.Errorf(assist.KindInvalid, "audio frame for channel %d, which no party uses", channel)
	case ch.party.ListenOnly:
		return assist.Errorf(assist.KindInvalid, "audio frame for channel %d, whose party only listens", channel)
	case len(pcm) > s.svc.cfg.MaxFrameBytes:
		return assist.Errorf(assist.KindTooLarge, "an audio frame of %d bytes is over the limit of %d", len(pcm), s.svc.cfg.MaxFrameBytes)
	case len(pcm) == 0:
		return assist.E(assist.KindInvalid, op, "an empty audio frame")
	}
	raw, err := speech.AppendPCM16(ch.buf[:0], pcm)
	if err != nil {
		return err
	}
	ch.buf = raw
	samples := ch.rs.Process(nil, raw)
	ch.samples += int64(len(samples))
	utts := ch.seg.Write(samples)
	if ch.recog.Streaming == nil {
		return s.feed(ch, utts)
	}
	return s.feedStreaming(ch, utts)
}

// feedStreaming hands finished utterances, with their streams, to the
// pipeline and writes the speech under way to the channel's stream,
// starting one when an utterance begins.
func (s *Session) feedStreaming(ch *channel, utts []speech.Utterance) error {
	now := time.Now()
	for _, u := range utts {
		ch.smu.Lock()
		j := job{ch: ch, utt: u, ended: now, stream: ch.stream, written: ch.written}
		ch.stream, ch.written, ch.noSlot = nil, 0, false
		ch.smu.Unlock()
		if err := s.enqueue(j); err != nil {
			if j.stream != nil {
				j.stream.Close()
			}
			return err
		}
		s.mu.Lock()
		ch.gen++
		s.mu.Unlock()
		ch.partAt = 0
	}
	u, ok := ch.seg.Pending()
	if !ok {
		return nil
	}
	ch.smu.Lock()
	defer ch.smu.Unlock()
	if ch.closed || ch.noSlot {
		return nil
	}
	if ch.stream == nil {
		ctx, cancel := context.WithTimeout(s.ctx, s.svc.cfg.StreamStartWait)
		st, err := ch.recog.Streaming.Start(ctx, ch.party.Language)
		cancel()
		if err != nil {
			ch.noSlot = true // this utterance is transcribed whole when it ends
			return nil
		}
		ch.stream, ch.written = st, 0
	}
	if err := ch.stream.Write(u.Audio.Samples[ch.written:]); err != nil {
		ch.stream.Close()
		ch.stream, ch.noSlot = nil, true
		return nil
	}
	ch.written = len(u.Audio.Samples)
	if s.partials && ch.written-ch.partAt >= int(s.svc.cfg.PartialEvery.Seconds()*speech.EngineSampleRate/2) {
		ch.partAt = ch.written
		if text := ch.stream.Partial(); text != "" {
			c := ch.party.Channel
			s.out.putPartial(Event{Type: EventPartial, Speaker: ch.party.Speaker, Channel: &c,
				Language: ch.party.Language, Start: seconds(u.Start), Text: text, Engine: ch.recog.Engine})
		}
	}
	return nil
}

// closeStreams frees the decoders of utterances that will not finish.
func (s *Session) closeStreams() {
	for _, ch := range s.order {
		ch.smu.Lock()
		ch.closed = true
		if ch.stream != nil {
			ch.stream.Close()
			ch.stream = nil
		}
		ch.smu.Unlock()
	}
	s.enqMu.Lock()
	defer s.enqMu.Unlock()
	for {
		select {
		case j, ok := <-s.jobs:
			if !ok {
				return
			}
			if j.stream != nil {
				j.stream.Close()
			}
		default:
			return
		}
	}
}

// feed queues finished utterances and asks for a partial caption of the
// one under way.
func (s *Session) feed(ch *channel, utts []speech.Utterance) error {
	now := time.Now()
	for _, u := range utts {
		if err := s.enqueue(job{ch: ch, utt: u, ended: now}); err != nil {
			return err
		}
		s.mu.Lock()
		ch.gen++
		if s.partialCh == ch && s.partialStop != nil {
			s.partialStop()
		}
		s.mu.Unlock()
		ch.partAt = 0
	}
	if !s.partials {
		return nil
	}
	if u, ok := ch.seg.Pending(); ok && len(u.Audio.Samples)-ch.partAt >= int(s.svc.cfg.PartialEvery.Seconds()*speech.EngineSampleRate) {
		ch.partAt = len(u.Audio.Samples)
		s.mu.Lock()
		gen := ch.gen
		s.mu.Unlock()
		pj := partialJob{ch: ch, gen: gen, utt: u}
		select { // latest wins: replace a request not yet taken
		case <-s.partialQ:
		default:
		}
		select {
		case s.partialQ <- pj:
		default:
		}
	}
	return nil
}

func (s *Session) enqueue(j job) error {
	s.enqMu.Lock()
	defer s.enqMu.Unlock()
	if err := s.ctx.Err(); err != nil {
		return assist.E(assist.KindCanceled, "interpret.Audio", "the session has ended", err)
	}
	select {
	case s.jobs <- j:
		return nil
	default:
	}
	t := time.NewTimer(s.svc.cfg.SlowClient)
	defer t.Stop()
	select {
	case s.jobs <- j:
		return nil
	case <-t.C:
		err := assist.E(assist.KindBusy, "interpret.Audio", "speech arrives faster than this gateway can interpret it")
		s.fail(err)
		return err
	case <-s.ctx.Done():
		return assist.E(assist.KindCanceled, "interpret.Audio", "the session has ended", s.ctx.Err())
	}
}

// Report sends an error event about something the client sent (a
// malformed frame or message); the session goes on.
func (s *Session) Report(err error) {
	ev := Event{Type: EventError, Kind: assist.KindOf(err), Message: assist.MessageOf(err)}
	if perr := s.out.put(s.ctx, ev); perr != nil && !errors.Is(perr, context.Canceled) {
		s.fail(perr)
	}
}

// Stop ends the session gracefully: speech under way is finished, every
// queued utterance is interpreted, then the transcript is sent and Next
// reports the end. Calling it twice is harmless.
func (s *Session) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	s.mu.Unlock()
	if s.ctx.Err() == nil {
		for _, ch := range s.order {
			if ch.party.ListenOnly {
				continue
			}
			if ch.recog.Streaming != nil {
				if s.feedStreaming(ch, ch.seg.Write(ch.rs.Flush(nil))) != nil || s.feedStreaming(ch, ch.seg.Flush()) != nil {
					break
				}
				continue
			}
			if s.enqueueAll(ch, ch.seg.Write(ch.rs.Flush(nil))) != nil || s.enqueueAll(ch, ch.seg.Flush()) != nil {
				break
			}
		}
	}
	close(s.jobs)
}

func (s *Session) enqueueAll(ch *channel, utts []speech.Utterance) error {
	now := time.Now()
	for _, u := range utts {
		if err := s.enqueue(job{ch: ch, utt: u, ended: now}); err != nil {
			return err
		}
	}
	return nil
}

// Abort ends the session at once (the client went away): work under way
// is canceled and no transcript is sent.
func (s *Session) Abort() {
	s.mu.Lock()
	if s.err == nil && !s.finished {
		s.err = assist.E(assist.KindCanceled, "interpret.Session", "the client went away")
	}
	s.mu.Unlock()
	s.cancel()
}

// Fail ends the session at once with err (a client that breaks the
// protocol); Err reports it.
func (s *Session) Fail(err error) { s.fail(err) }

func (s *Session) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.cancel()
}

// Err is why the session ended early: nil after a graceful Stop; busy,
// timeout, unavailable or canceled otherwise. Valid once Next reported
// the end.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Next returns the next event for the client; ok is false once the
// session has ended and every event that must not be lost was returned.
func (s *Session) Next(ctx context.Context) (Event, bool) {
	return s.out.next(ctx, s.done)
}

// IdleTimeout is how long the client may send nothing.
func (s *Session) IdleTimeout() time.Duration { return s.svc.cfg.IdleTimeout }

// Wait waits for the session's goroutines to end (after Next reported the
// end, or after Abort).
func (s *Session) Wait() { s.wg.Wait() }

// run is the pipeline: utterances in order → recognition → final →
// translation(s) → speech. It ends when the jobs are done (after Stop) or
// the session is canceled.
func (s *Session) run() {
	outcome := audit.OutcomeOK
	defer func() {
		s.timer.Stop()
		s.finish(outcome)
	}()
	for {
		select {
		case j, ok := <-s.jobs:
			if !ok {
				if s.ctx.Err() != nil {
					outcome = audit.OutcomeCanceled
					return
				}
				s.send(Event{Type: EventTranscript, Session: s.ID, Transcript: s.Transcript()})
				return
			}
			if j.redo != nil {
				s.translateAll(j.redo, &timing{})
			} else {
				s.process(j)
			}
		case <-s.ctx.Done():
			outcome = audit.OutcomeCanceled
			return
		}
	}
}

// finish records the session's end, releases its slot and lets Next
// drain.
func (s *Session) finish(outcome audit.Outcome) {
	s.cancel() // stops the partial worker
	s.closeStreams()
	s.mu.Lock()
	n := len(s.segs)
	err := s.err
	s.finished = true
	s.mu.Unlock()
	if err != nil && assist.KindOf(err) != assist.KindCanceled {
		outcome = audit.OutcomeError
	}
	e := audit.Event{Kind: KindSessionEnd, Task: assist.TaskInterpret, Patient: s.start.Patient, RelatesTo: s.startSeq,
		Outcome: outcome, Attrs: s.attrs(map[string]string{"segments": strconv.Itoa(n)})}
	if err != nil {
		e.ErrorKind = assist.KindOf(err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 5*time.Second)
	defer cancel()
	if _, err := s.svc.d.Rec.Commit(ctx, record.Entry{Event: e}); err != nil {
		s.svc.d.Logger.Error("interpret: session end not recorded", "session", s.ID, "kind", string(assist.KindOf(err)))
	}
	close(s.done)
	s.svc.release(s.caller)
}

// send queues an event that must reach the client; a client that reads
// nothing for too long ends the session.
func (s *Session) send(ev Event) bool {
	if err := s.out.put(s.ctx, ev); err != nil {
		if assist.KindOf(err) != assist.KindCanceled {
			s.fail(err)
		}
		return false
	}
	return true
}

func (s *Session) sendError(segment string, err error) {
	if s.ctx.Err() != nil {
		return
	}
	s.svc.d.Logger.Warn("interpret: segment step failed", "session", s.ID, "segment", segment, "kind", string(assist.KindOf(err)), "message", assist.MessageOf(err))
	s.send(Event{Type: EventError, Segment: segment, Kind: assist.KindOf(err), Message: assist.MessageOf(err)})
}

func (s *Session) runPartials() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case pj := <-s.partialQ:
			s.mu.Lock()
			if pj.gen != pj.ch.gen {
				s.mu.Unlock()
				continue // its utterance has ended already
			}
			ctx, cancel := context.WithCancel(s.ctx)
			s.partialStop, s.partialCh = cancel, pj.ch
			s.mu.Unlock()
			tr, err := pj.ch.recog.Transcribe(ctx, pj.utt.Audio, pj.ch.party.Language)
			s.mu.Lock()
			s.partialStop, s.partialCh = nil, nil
			s.mu.Unlock()
			cancel()
			text := strings.TrimSpace(tr.Text)
			if err != nil || text == "" {
				continue
			}
			s.mu.Lock()
			current := pj.gen == pj.ch.gen
			s.mu.Unlock()
			if current {
				ch := pj.ch.party.Channel
				s.out.putPartial(Event{Type: EventPartial, Speaker: pj.ch.party.Speaker, Channel: &ch,
					Language: pj.ch.party.Language, Start: seconds(pj.utt.Start), Text: text, Engine: tr.Engine})
			}
		}
	}
}

// confidence is the duration-weighted mean of the segments' confidences,
// or -1 when the engine gave none.
func confidence(segs []speech.Segment) float64 {
	var sum, w float64
	for _, sg := range segs {
		if sg.Confidence < 0 {
			continue
		}
		d := max((sg.End - sg.Start).Seconds(), 0.01)
		sum += sg.Confidence * d
		w += d
	}
	if w == 0 {
		return -1
	}
	return float64(int(sum/w*1000+0.5)) / 1000
}

func pcmHash(a speech.Audio) []byte {
	h := sha256.Sum256(speech.EncodePCM16(nil, a.Samples))
	return h[:]
}

func (s *Session) process(j job) {
	ch := j.ch
	lang := ch.party.Language
	t := time.Now()
	tm := &timing{ended: j.ended, queue: t.Sub(j.ended)}
	tr, err := s.recognize(j)
	asr := time.Since(t)
	tm.asr = asr
	if err != nil {
		s.sendError("", err)
		return
	}
	text := strings.TrimSpace(tr.Text)
	if text == "" {
		return // noise, a cough: nothing was said
	}
	engine := tr.Engine
	if engine == "" {
		engine = ch.recog.Engine
	}
	s.mu.Lock()
	s.nextSeg++
	seg := &segment{id: "s" + strconv.Itoa(s.nextSeg), ch: ch, start: j.utt.Start, end: j.utt.End, text: text,
		trans: map[string]string{}, transSeq: map[string]int64{}}
	s.mu.Unlock()
	conf := confidence(tr.Segments)
	seq, err := s.svc.d.Rec.Commit(s.ctx, record.Entry{Event: audit.Event{
		Kind: KindSegment, Task: assist.TaskInterpret, Patient: s.start.Patient, Model: engine,
		InputHash: pcmHash(j.utt.Audio), Output: []byte(text), Latency: asr, Outcome: audit.OutcomeOK, RelatesTo: s.startSeq,
		Attrs: s.attrs(map[string]string{
			"segment": seg.id, "speaker": ch.party.Speaker, "channel": strconv.Itoa(ch.party.Channel), "language": lang,
			"start_ms": strconv.FormatInt(j.utt.Start.Milliseconds(), 10), "end_ms": strconv.FormatInt(j.utt.End.Milliseconds(), 10),
			"confidence": strconv.FormatFloat(conf, 'f', 3, 64),
		})}})
	if err != nil {
		s.sendError(seg.id, err) // not recorded: not released
		return
	}
	seg.seq = seq
	s.mu.Lock()
	s.segs = append(s.segs, seg)
	s.byID[seg.id] = seg
	s.mu.Unlock()
	s.out.dropPartial(ch.party.Speaker)
	chn := ch.party.Channel
	if !s.send(Event{Type: EventFinal, Segment: seg.id, Speaker: ch.party.Speaker, Channel: &chn, Language: lang,
		Start: seconds(seg.start), End: seconds(seg.end), Text: text, Confidence: &conf, Engine: engine, AuditSeq: seq,
		Latency: tm.latency()}) {
		return
	}
	s.translateAll(seg, tm)
}

// recognize finishes a streamed utterance (the rest of its audio, then
// the end), or transcribes it whole.
func (s *Session) recognize(j job) (speech.Transcript, error) {
	if j.stream == nil {
		return j.ch.recog.Transcribe(s.ctx, j.utt.Audio, j.ch.party.Language)
	}
	defer j.stream.Close()
	if s.ctx.Err() != nil {
		return speech.Transcript{}, assist.E(assist.KindCanceled, "interpret.recognize", s.ctx.Err())
	}
	if j.written < len(j.utt.Audio.Samples) {
		if err := j.stream.Write(j.utt.Audio.Samples[j.written:]); err != nil {
			return speech.Transcript{}, err
		}
	}
	return j.stream.End()
}

// timing follows one segment from the end of speech.
type timing struct {
	ended                 time.Time // when the voice-activity detector ended the utterance
	queue                 time.Duration
	asr, translate, synth time.Duration
}

func (tm *timing) latency() *Latency {
	if tm == nil || tm.ended.IsZero() {
		return nil
	}
	total := time.Since(tm.ended)
	engine := tm.asr + tm.translate + tm.synth
	return &Latency{TotalMS: ms(total), QueueMS: ms(tm.queue), EngineMS: ms(engine),
		ASRMS: ms(tm.asr), TranslateMS: ms(tm.translate), SynthesisMS: ms(tm.synth), OverheadMS: ms(total - engine - tm.queue)}
}

// translateAll translates a segment into each other party's language and
// speaks each translation.
func (s *Session) translateAll(seg *segment, tm *timing) {
	s.mu.Lock()
	text, targets := seg.text, seg.ch.targets
	s.mu.Unlock()
	for _, to := range targets {
		if s.ctx.Err() != nil {
			return
		}
		t := *tm // each language's own engine times
		s.translate(seg, text, to, &t)
	}
}

func (s *Session) translate(seg *segment, text, to string, tm *timing) {
	from := seg.ch.party.Language
	terms, sources, err := findTerms(s.ctx, s.svc.d.Glossary, s.start.Glossary, text, from, to)
	if err != nil {
		// The translation goes on without the glossary; the client is told.
		s.sendError(seg.id, assist.E(assist.KindOf(err), "interpret.glossary", "the glossary could not be searched; translated without it", err))
		terms, sources = nil, nil
	}
	prompt, err := s.svc.tmpl.Render(map[string]any{
		"Speaker": seg.ch.party.Speaker, "From": languageName(from), "To": languageName(to), "Terms": terms, "Text": text,
	})
	if err != nil {
		s.sendError(seg.id, err)
		return
	}
	ids := make([]string, len(terms))
	for i, t := range terms {
		ids[i] = t.ID
	}
	t := time.Now()
	res, err := s.svc.d.Rec.Generate(s.ctx, record.Call{
		Task: assist.TaskInterpret, Template: s.svc.tmpl.Ref(), Priority: assist.PriorityRealtime,
		Patient: s.start.Patient, RelatesTo: seg.seq, Prompt: prompt,
		Options: map[string]any{"temperature": 0, "num_predict": predictFor(text, s.svc.cfg.MaxTranslationTokens)},
		Attrs: s.attrs(map[string]string{"segment": seg.id, "from": from, "to": to,
			"glossary_terms": strings.Join(ids, ","), "glossary_sources": strings.Join(sources, ",")}),
	})
	tm.translate += time.Since(t)
	if err != nil {
		s.sendError(seg.id, err)
		return
	}
	out := strings.TrimSpace(res.Text)
	s.mu.Lock()
	seg.trans[to], seg.transSeq[to] = out, res.Seq
	s.mu.Unlock()
	model := res.Model.Name
	if d := res.Model.Digest; d != "" {
		model += "@" + d
	}
	if !s.send(Event{Type: EventTranslation, Segment: seg.id, Speaker: seg.ch.party.Speaker, From: from, Language: to,
		Text: out, Model: model, Glossary: terms, AuditSeq: res.Seq, Latency: tm.latency()}) {
		return
	}
	v, ok := s.voices[to]
	if !s.synth || !ok {
		return
	}
	if out == "" {
		s.sendError(seg.id, assist.E(assist.KindUpstream, "interpret.translate", "the model gave an empty translation; nothing to speak"))
		return
	}
	t = time.Now()
	sp, err := v.Synthesize(s.ctx, out, to)
	tts := time.Since(t)
	tm.synth = tts
	if err != nil {
		s.sendError(seg.id, err)
		return
	}
	veng := sp.Engine
	if veng == "" {
		veng = v.Engine
	}
	wavSum := sha256.Sum256(sp.WAV)
	seq, err := s.svc.d.Rec.Commit(s.ctx, record.Entry{Event: audit.Event{
		Kind: KindSynthesis, Task: assist.TaskInterpret, Patient: s.start.Patient, Model: veng,
		Input: []byte(out), OutputHash: wavSum[:], Latency: tts, Outcome: audit.OutcomeOK, RelatesTo: res.Seq,
		Attrs: s.attrs(map[string]string{"segment": seg.id, "language": to,
			"duration_ms": strconv.FormatInt(sp.Duration.Milliseconds(), 10)})}})
	if err != nil {
		s.sendError(seg.id, err)
		return
	}
	s.send(Event{Type: EventSpeech, Segment: seg.id, Language: to, WAV: sp.WAV, DurationMS: sp.Duration.Milliseconds(),
		Engine: veng, AuditSeq: seq, Latency: tm.latency()})
}

// predictFor bounds a translation's tokens by the source's length (a
// translation is rarely more than a few tokens per source word), within
// the configured maximum, so a model that rambles cannot hold up the
// conversation.
func predictFor(text string, max int) int {
	return min(max, 4*len(strings.Fields(text))+24)
}

// MaxCorrectionChars bounds a corrected text.
const MaxCorrectionChars = 2000

// Correct applies an interpreter's correction. It is recorded as a human
// edit (a review record with outcome edited, relating to the corrected
// output) before the correction event is sent. Errors: invalid for a bad
// correction, not_found for an unknown segment, unavailable when it
// cannot be recorded (nothing changes).
func (s *Session) Correct(ctx context.Context, c Correction) error {
	const op = "interpret.Correct"
	text := strings.TrimSpace(c.Text)
	switch {
	case c.Field != "text" && c.Field != "translation":
		return assist.E(assist.KindInvalid, op, `a correction's field is "text" or "translation"`)
	case text == "" || !utf8.ValidString(text):
		return assist.E(assist.KindInvalid, op, "a correction needs the new text")
	case utf8.RuneCountInString(text) > MaxCorrectionChars:
		return assist.Errorf(assist.KindTooLarge, "a correction is at most %d characters", MaxCorrectionChars)
	}
	s.mu.Lock()
	seg := s.byID[c.Segment]
	var old, lang string
	var rel int64
	if seg != nil {
		if c.Field == "text" {
			old, rel, lang = seg.text, seg.seq, seg.ch.party.Language
		} else if len(seg.ch.targets) > 0 {
			lang = seg.ch.targets[0]
			old, rel = seg.trans[lang], seg.transSeq[lang]
		}
	}
	s.mu.Unlock()
	switch {
	case seg == nil:
		return assist.Errorf(assist.KindNotFound, "no segment %q in this session", c.Segment)
	case rel == 0:
		return assist.Errorf(assist.KindInvalid, "segment %s has no %s to correct yet", c.Segment, c.Field)
	}
	seq, err := s.svc.d.Rec.Commit(ctx, record.Entry{Event: audit.Event{
		Kind: audit.KindReview, Task: assist.TaskInterpret, Patient: s.start.Patient, Outcome: audit.OutcomeEdited,
		RelatesTo: rel, Input: []byte(old), Output: []byte(text),
		Attrs: s.attrs(map[string]string{"edit": "interpret.correction", "segment": seg.id, "field": c.Field, "language": lang})}})
	if err != nil {
		return err
	}
	s.mu.Lock()
	if c.Field == "text" {
		seg.text, seg.seq = text, seq
	} else {
		seg.trans[lang], seg.transSeq[lang] = text, seq
	}
	seg.corrected = true
	s.mu.Unlock()
	s.send(Event{Type: EventCorrection, Segment: seg.id, Speaker: seg.ch.party.Speaker, Field: c.Field, Language: lang, Text: text, AuditSeq: seq})
	if c.Field == "text" && c.Retranslate {
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		if !stopped {
			return s.enqueue(job{redo: seg})
		}
	}
	return nil
}

// Transcript is the bilingual transcript so far, in order of the
// segments' finals.
func (s *Session) Transcript() []Turn {
	s.mu.Lock()
	defer s.mu.Unlock()
	turns := make([]Turn, 0, len(s.segs))
	for _, sg := range s.segs {
		t := Turn{ID: sg.id, Speaker: sg.ch.party.Speaker, Text: sg.text, Start: seconds(sg.start), End: seconds(sg.end),
			Language: sg.ch.party.Language, Corrected: sg.corrected}
		for _, l := range sg.ch.targets {
			if tx, ok := sg.trans[l]; ok {
				t.Translations = append(t.Translations, Translation{Language: l, Text: tx})
			}
		}
		turns = append(turns, t)
	}
	return turns
}
