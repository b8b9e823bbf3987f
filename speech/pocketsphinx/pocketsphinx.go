package pocketsphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <pocketsphinx.h>
#include <err.h>

// sote_ps_new makes a decoder from command-line style arguments
// ("-hmm", dir, "-lm", file, …).
static ps_decoder_t *sote_ps_new(int argc, char **argv) {
	err_set_logfp(NULL);
	cmd_ln_t *c = cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
	if (c == NULL) return NULL;
	ps_decoder_t *ps = ps_init(c);
	cmd_ln_free_r(c);
	return ps;
}

static double sote_ps_exp(ps_decoder_t *ps, int32 logp) {
	return logmath_exp(ps_get_logmath(ps), logp);
}

static int32 sote_seg_post(ps_seg_t *seg) {
	int32 a, l, b;
	return ps_seg_prob(seg, &a, &l, &b);
}
*/
import "C"

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/speech"
)

// Version names the engine and model for the audit log.
const Version = "pocketsphinx 5prealpha en-us"

// DefaultModelDir is where Debian's pocketsphinx-en-us installs the model.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// frameTime is PocketSphinx's default frame shift (100 frames a second).
const frameTime = 10 * time.Millisecond

// Config locates the model and sizes the decoder pool.
type Config struct {
	// ModelDir holds en-us/ (acoustic model), en-us.lm.bin and
	// cmudict-en-us.dict; DefaultModelDir when empty.
	ModelDir string
	// Decoders is how many utterances are decoded at once (each decoder
	// holds its own copy of the model, ~95 MB resident); the CPU count
	// when 0. A stream (Start) holds a decoder for a whole utterance.
	Decoders int
	// MaxUtterance is the longest stretch decoded in one pass; longer audio
	// is cut at pauses by the voice-activity detector first. 30s when 0.
	MaxUtterance time.Duration
	// MaxWaiting bounds the callers waiting for a free decoder (16 when 0)
	// and MaxWait how long each waits (30s when 0); past either the call
	// is refused as busy, so a burst of uploads cannot pile up in memory.
	MaxWaiting int
	MaxWait    time.Duration
	// Options are extra decoder settings by name without the dash, e.g.
	// {"beam": "1e-40", "maxhmmpf": "3000"} to trade accuracy for speed.
	Options map[string]string
}

// FastOptions trade accuracy for speed by bounding the search: at most
// 2000 active HMMs and 5 word exits per frame (PocketSphinx's defaults are
// 30000 and unbounded). On the flite test sentences they cut CPU time by
// about 30% at the same word error rate; check on real recordings first.
var FastOptions = map[string]string{"maxhmmpf": "2000", "maxwpf": "5"}

// Engine is a pool of PocketSphinx decoders. A decoder is not thread-safe,
// so each Transcribe borrows one; callers beyond the pool wait (or give up
// with their context). It is safe for concurrent use.
type Engine struct {
	cfg  Config
	argv []*C.char // decoder arguments, C strings freed by Close

	free    chan *C.ps_decoder_t // idle decoders
	slot    chan struct{}        // a token per decoder that may exist
	waiting atomic.Int32         // callers waiting for a decoder

	mu     sync.Mutex
	all    []*C.ps_decoder_t
	closed bool
}

var _ speech.StreamingTranscriber = (*Engine)(nil)

// New checks that the model is installed (kind unavailable when not) and
// makes decoders on demand, so a gateway that never hears English pays
// nothing for it; with Options it loads one decoder at once to check them
// (kind invalid).
func New(cfg Config) (*Engine, error) {
	const op = "pocketsphinx.New"
	if cfg.ModelDir == "" {
		cfg.ModelDir = DefaultModelDir
	}
	if cfg.Decoders <= 0 {
		cfg.Decoders = runtime.NumCPU()
	}
	if cfg.MaxUtterance <= 0 {
		cfg.MaxUtterance = 30 * time.Second
	}
	if cfg.MaxWaiting <= 0 {
		cfg.MaxWaiting = 16
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 30 * time.Second
	}
	paths := []string{filepath.Join(cfg.ModelDir, "en-us"), filepath.Join(cfg.ModelDir, "en-us.lm.bin"), filepath.Join(cfg.ModelDir, "cmudict-en-us.dict")}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return nil, assist.E(assist.KindUnavailable, op, "the PocketSphinx English model is not installed (Debian package pocketsphinx-en-us)", err)
		}
	}
	e := &Engine{cfg: cfg, free: make(chan *C.ps_decoder_t, cfg.Decoders), slot: make(chan struct{}, cfg.Decoders)}
	args := []string{"pocketsphinx", "-hmm", paths[0], "-lm", paths[1], "-dict", paths[2]}
	for _, k := range slices.Sorted(maps.Keys(cfg.Options)) {
		args = append(args, "-"+strings.TrimPrefix(k, "-"), cfg.Options[k])
	}
	for _, a := range args {
		e.argv = append(e.argv, C.CString(a))
	}
	for range cfg.Decoders {
		e.slot <- struct{}{}
	}
	if len(cfg.Options) > 0 {
		// Options are checked now: a wrong one must stop the start-up,
		// not the first English speaker.
		<-e.slot
		ps, err := e.newDecoder()
		if err != nil {
			e.Close()
			return nil, assist.E(assist.KindInvalid, op, "the PocketSphinx options are not valid", err)
		}
		e.free <- ps
	}
	return e, nil
}

func (e *Engine) newDecoder() (*C.ps_decoder_t, error) {
	argv := C.malloc(C.size_t(len(e.argv)) * C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(argv)
	copy(unsafe.Slice((**C.char)(argv), len(e.argv)), e.argv)
	ps := C.sote_ps_new(C.int(len(e.argv)), (**C.char)(argv))
	if ps == nil {
		return nil, assist.E(assist.KindUnavailable, "pocketsphinx.New", "the PocketSphinx decoder could not load its model (or an option is wrong)")
	}
	e.mu.Lock()
	e.all = append(e.all, ps)
	e.mu.Unlock()
	return ps, nil
}

// Close frees the decoders. Transcriptions under way must have finished.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	for _, ps := range e.all {
		C.ps_free(ps)
	}
	e.all = nil
	for _, a := range e.argv {
		C.free(unsafe.Pointer(a))
	}
	e.argv = nil
	return nil
}

// Waiting is how many callers wait for a free decoder now.
func (e *Engine) Waiting() int { return int(e.waiting.Load()) }

// acquire borrows an idle decoder, or makes one while the pool has room.
func (e *Engine) acquire(ctx context.Context) (*C.ps_decoder_t, error) {
	select {
	case ps := <-e.free:
		return ps, nil
	default:
	}
	const op = "pocketsphinx.Transcribe"
	if int(e.waiting.Add(1)) > e.cfg.MaxWaiting {
		e.waiting.Add(-1)
		return nil, assist.E(assist.KindBusy, op, "the CPU speech recogniser is busy; retry later", 2)
	}
	defer e.waiting.Add(-1)
	timer := time.NewTimer(e.cfg.MaxWait)
	defer timer.Stop()
	select {
	case ps := <-e.free:
		return ps, nil
	case <-e.slot:
		ps, err := e.newDecoder()
		if err != nil {
			e.slot <- struct{}{}
			return nil, err
		}
		return ps, nil
	case <-timer.C:
		return nil, assist.E(assist.KindBusy, op, "the CPU speech recogniser is busy; retry later", 2)
	case <-ctx.Done():
		return nil, assist.ContextError(op, ctx)
	}
}

// Language checks that the engine serves lang (a BCP 47 tag; "" means
// English is assumed): anything but English is kind invalid.
func Language(lang string) error {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	primary, _, _ = strings.Cut(primary, "_")
	if primary == "" || primary == "en" || primary == "eng" || primary == "english" {
		return nil
	}
	return assist.Errorf(assist.KindInvalid, "the CPU speech recogniser serves English only, not %q; configure a transcription host for other languages", lang)
}

// Transcribe recognises English speech. Audio at another rate than 16 kHz
// is resampled first; audio longer than MaxUtterance is cut at pauses.
func (e *Engine) Transcribe(ctx context.Context, a speech.Audio, lang string) (speech.Transcript, error) {
	const op = "pocketsphinx.Transcribe"
	if err := Language(lang); err != nil {
		return speech.Transcript{}, err
	}
	if len(a.Samples) == 0 || a.SampleRate <= 0 {
		return speech.Transcript{}, assist.E(assist.KindInvalid, op, "the audio is empty")
	}
	a, err := speech.Resample(a, speech.EngineSampleRate)
	if err != nil {
		return speech.Transcript{}, err
	}
	pieces := []speech.Utterance{{End: a.Duration(), Audio: a}}
	if a.Duration() > e.cfg.MaxUtterance {
		seg, err := speech.NewSegmenter(speech.VADConfig{MaxSegment: e.cfg.MaxUtterance})
		if err != nil {
			return speech.Transcript{}, err
		}
		pieces = append(seg.Write(a.Samples), seg.Flush()...)
	}
	ps, err := e.acquire(ctx)
	if err != nil {
		return speech.Transcript{}, err
	}
	defer func() { e.free <- ps }()
	tr := speech.Transcript{Language: "en", Engine: Version}
	var words []string
	for _, p := range pieces {
		segs, err := decode(ctx, ps, p.Audio.Samples)
		if err != nil {
			return speech.Transcript{}, err
		}
		for _, s := range segs {
			s.Start += p.Start
			s.End += p.Start
			tr.Segments = append(tr.Segments, s)
			words = append(words, s.Text)
		}
	}
	tr.Text = strings.Join(words, " ")
	return tr, nil
}

// decode runs one utterance through the decoder, a half second at a time
// so a cancelled context stops it.
func decode(ctx context.Context, ps *C.ps_decoder_t, samples []float32) ([]speech.Segment, error) {
	const op = "pocketsphinx.Transcribe"
	if err := startUtt(ps); err != nil {
		return nil, err
	}
	const chunk = speech.EngineSampleRate / 2
	for i := 0; i < len(samples); i += chunk {
		if ctx.Err() != nil {
			C.ps_end_utt(ps)
			return nil, assist.ContextError(op, ctx)
		}
		if err := feed(ps, samples[i:min(i+chunk, len(samples))]); err != nil {
			C.ps_end_utt(ps)
			return nil, err
		}
	}
	if C.ps_end_utt(ps) < 0 {
		return nil, assist.E(assist.KindInternal, op, errors.New("ps_end_utt failed"))
	}
	return segments(ps), nil
}

// startUtt begins an utterance. Frame numbers count from the start of the
// stream, so it is restarted to make segment times relative to this
// utterance.
func startUtt(ps *C.ps_decoder_t) error {
	if C.ps_start_stream(ps) < 0 || C.ps_start_utt(ps) < 0 {
		return assist.E(assist.KindInternal, "pocketsphinx.Transcribe", errors.New("ps_start_utt failed"))
	}
	return nil
}

// feed decodes samples (16 kHz, [-1, 1]).
func feed(ps *C.ps_decoder_t, samples []float32) error {
	if len(samples) == 0 {
		return nil
	}
	pcm := make([]C.int16, len(samples))
	for i, s := range samples {
		pcm[i] = C.int16(max(-32768, min(32767, s*32767)))
	}
	if C.ps_process_raw(ps, &pcm[0], C.size_t(len(pcm)), 0, 0) < 0 {
		return assist.E(assist.KindInternal, "pocketsphinx.Transcribe", errors.New("ps_process_raw failed"))
	}
	return nil
}

// Start begins recognising an utterance as it is spoken (see
// speech.StreamingTranscriber). The stream holds one decoder of the pool
// until End or Close.
func (e *Engine) Start(ctx context.Context, lang string) (speech.Stream, error) {
	if err := Language(lang); err != nil {
		return nil, err
	}
	ps, err := e.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if err := startUtt(ps); err != nil {
		e.free <- ps
		return nil, err
	}
	return &stream{e: e, ps: ps}, nil
}

// stream is an utterance being decoded by one borrowed decoder.
type stream struct {
	e     *Engine
	ps    *C.ps_decoder_t // nil once ended or closed
	err   error
	ended bool // ps_end_utt has run
}

func (s *stream) Write(samples []float32) error {
	if s.ps == nil {
		return assist.E(assist.KindInvalid, "pocketsphinx.Stream", "the utterance has ended")
	}
	if s.err == nil {
		s.err = feed(s.ps, samples)
	}
	return s.err
}

func (s *stream) Partial() string {
	if s.ps == nil || s.err != nil {
		return ""
	}
	h := C.ps_get_hyp(s.ps, nil)
	if h == nil {
		return ""
	}
	return strings.Join(strings.Fields(C.GoString(h)), " ")
}

func (s *stream) End() (speech.Transcript, error) {
	if s.ps == nil {
		return speech.Transcript{}, assist.E(assist.KindInvalid, "pocketsphinx.Stream", "the utterance has ended")
	}
	defer s.Close()
	if s.err != nil {
		return speech.Transcript{}, s.err
	}
	s.ended = true
	if C.ps_end_utt(s.ps) < 0 {
		return speech.Transcript{}, assist.E(assist.KindInternal, "pocketsphinx.Stream", errors.New("ps_end_utt failed"))
	}
	tr := speech.Transcript{Language: "en", Engine: Version, Segments: segments(s.ps)}
	words := make([]string, len(tr.Segments))
	for i, sg := range tr.Segments {
		words[i] = sg.Text
	}
	tr.Text = strings.Join(words, " ")
	return tr, nil
}

func (s *stream) Close() {
	if s.ps == nil {
		return
	}
	if !s.ended {
		C.ps_end_utt(s.ps)
	}
	s.e.free <- s.ps
	s.ps = nil
}

// word is one recognised word with its posterior probability.
type word struct {
	text       string
	start, end time.Duration
	post       float64
}

// segments groups the words of the best hypothesis into segments, cut at
// pauses of a third of a second or more; a segment's confidence is the
// mean posterior probability of its words.
func segments(ps *C.ps_decoder_t) []speech.Segment {
	var ws []word
	for it := C.ps_seg_iter(ps); it != nil; it = C.ps_seg_next(it) {
		var sf, ef C.int
		C.ps_seg_frames(it, &sf, &ef)
		w := word{
			text:  C.GoString(C.ps_seg_word(it)),
			start: time.Duration(sf) * frameTime,
			end:   time.Duration(ef+1) * frameTime,
			post:  float64(C.sote_ps_exp(ps, C.sote_seg_post(it))),
		}
		ws = append(ws, w)
	}
	var out []speech.Segment
	var cur []word
	flush := func() {
		if len(cur) == 0 {
			return
		}
		s := speech.Segment{Start: cur[0].start, End: cur[len(cur)-1].end}
		texts := make([]string, len(cur))
		var sum float64
		for i, w := range cur {
			texts[i] = w.text
			sum += w.post
		}
		s.Text = strings.Join(texts, " ")
		s.Confidence = min(1, max(0, sum/float64(len(cur))))
		out = append(out, s)
		cur = nil
	}
	for _, w := range ws {
		if filler(w.text) {
			if w.end-w.start >= 330*time.Millisecond {
				flush()
			}
			continue
		}
		if i := strings.IndexByte(w.text, '('); i > 0 { // pronunciation variant "the(2)"
			w.text = w.text[:i]
		}
		cur = append(cur, w)
	}
	flush()
	return out
}

// filler reports the decoder's non-words: <s>, </s>, <sil>, [NOISE], ….
func filler(w string) bool {
	return w == "" || strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "+")
}
