package pocketsphinx_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/speech"
	"github.com/soteai/gateway/speech/pocketsphinx"
	"github.com/soteai/gateway/speech/speechtest"
)

// newEngine loads the real engine; a missing model fails under CI=true.
func newEngine(t testing.TB, decoders int) *pocketsphinx.Engine {
	t.Helper()
	e, err := pocketsphinx.New(pocketsphinx.Config{Decoders: decoders})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PocketSphinx: %v (CI=true: a missing engine fails the test)", err)
		}
		t.Skipf("PocketSphinx: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// norm lower-cases and drops punctuation, as for both sides of a WER.
func norm(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}), " ")
}

// TestTranscribeFliteWER recognises flite's clearly spoken sentences and
// reports the word error rate; the guard is well below the 40% of a
// useless recogniser.
func TestTranscribeFliteWER(t *testing.T) {
	e := newEngine(t, 2)
	var refs, hyps []string
	for _, s := range speechtest.Sentences {
		a := speechtest.Flite(t, s)
		tr, err := e.Transcribe(context.Background(), a, "en")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%q -> %q (%d segments, engine %s)", s, tr.Text, len(tr.Segments), tr.Engine)
		if tr.Engine != pocketsphinx.Version || tr.Language != "en" {
			t.Fatalf("engine %q language %q", tr.Engine, tr.Language)
		}
		for _, sg := range tr.Segments {
			if sg.Start < 0 || sg.End <= sg.Start || sg.End > a.Duration()+50*time.Millisecond || sg.Confidence < 0 || sg.Confidence > 1 {
				t.Fatalf("segment %+v out of range for %s of audio", sg, a.Duration())
			}
		}
		refs = append(refs, norm(s))
		hyps = append(hyps, norm(tr.Text))
	}
	c, err := evals.WordErrors(refs, hyps)
	if err != nil {
		t.Fatal(err)
	}
	wer := c.ErrorRate()
	t.Logf("WER %.1f%% over %d sentences (%+v)", 100*wer, len(refs), c)
	if wer >= 0.25 {
		t.Fatalf("WER %.1f%% on clearly spoken sentences, want below 25%%", 100*wer)
	}
}

// Long audio is cut at pauses and the segment times follow the audio.
func TestTranscribeLongAudioSegments(t *testing.T) {
	e, err := pocketsphinx.New(pocketsphinx.Config{Decoders: 1, MaxUtterance: 4 * time.Second})
	if err != nil {
		newEngine(t, 1) // fails or skips with the reason
		t.Fatal(err)
	}
	defer e.Close()
	one, two := speechtest.Flite(t, speechtest.Sentences[0]), speechtest.Flite(t, speechtest.Sentences[1])
	gap := speechtest.Silence(time.Second, speech.EngineSampleRate)
	a := speechtest.Concat(gap, one, gap, two, gap)
	tr, err := e.Transcribe(context.Background(), a, "en-US")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%q %+v", tr.Text, tr.Segments)
	if len(tr.Segments) < 2 {
		t.Fatalf("got %d segments, want one per sentence at least", len(tr.Segments))
	}
	secondStart := speechtest.Concat(gap, one, gap).Duration()
	last := tr.Segments[len(tr.Segments)-1]
	if last.Start < secondStart-300*time.Millisecond || last.End > a.Duration() {
		t.Fatalf("last segment %s..%s, want after %s", last.Start, last.End, secondStart)
	}
}

func TestTranscribeErrors(t *testing.T) {
	e := newEngine(t, 1)
	ok := speechtest.Flite(t, "hello")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		a    speech.Audio
		lang string
		kind assist.Kind
	}{
		{"finnish", context.Background(), ok, "fi", assist.KindInvalid},
		{"arabic", context.Background(), ok, "ar-SA", assist.KindInvalid},
		{"empty audio", context.Background(), speech.Audio{SampleRate: 16000}, "en", assist.KindInvalid},
		{"canceled", canceled, ok, "en", assist.KindCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Transcribe(tc.ctx, tc.a, tc.lang)
			if assist.KindOf(err) != tc.kind {
				t.Fatalf("got %v, want %s", err, tc.kind)
			}
			if tc.kind == assist.KindInvalid && assist.MessageOf(err) == "" {
				t.Fatal("no message")
			}
		})
	}
	if _, err := pocketsphinx.New(pocketsphinx.Config{Options: map[string]string{"no_such_option": "1"}}); assist.KindOf(err) != assist.KindInvalid {
		t.Fatalf("a wrong option: %v", err)
	}
	if e, err := pocketsphinx.New(pocketsphinx.Config{Options: pocketsphinx.FastOptions}); err != nil {
		t.Fatalf("FastOptions: %v", err)
	} else {
		e.Close()
	}
	if err := pocketsphinx.Language("fi"); !strings.Contains(assist.MessageOf(err), "English only") {
		t.Fatalf("message %q does not say why", assist.MessageOf(err))
	}
}

// Concurrent callers share the pool; every one gets its own sentence back.
func TestTranscribeConcurrent(t *testing.T) {
	e := newEngine(t, 2)
	audio := make([]speech.Audio, 4)
	for i := range audio {
		audio[i] = speechtest.Flite(t, speechtest.Sentences[i])
	}
	var wg sync.WaitGroup
	got := make([]string, len(audio))
	errs := make([]error, len(audio))
	for i := range audio {
		wg.Go(func() {
			tr, err := e.Transcribe(context.Background(), audio[i], "en")
			got[i], errs[i] = tr.Text, err
		})
	}
	wg.Wait()
	for i := range audio {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		c, _ := evals.WordErrors([]string{norm(speechtest.Sentences[i])}, []string{norm(got[i])})
		if c.ErrorRate() > 0.5 {
			t.Fatalf("caller %d got %q for %q", i, got[i], speechtest.Sentences[i])
		}
	}
}

// Streaming: 20 ms frames as a client sends them; partials grow, and the
// final transcript matches the whole-utterance one.
func TestStream(t *testing.T) {
	e := newEngine(t, 1)
	s := speechtest.Sentences[2]
	a := speechtest.Flite(t, s)
	st, err := e.Start(context.Background(), "en")
	if err != nil {
		t.Fatal(err)
	}
	var partials []string
	for i := 0; i < len(a.Samples); i += 320 {
		if err := st.Write(a.Samples[i:min(i+320, len(a.Samples))]); err != nil {
			t.Fatal(err)
		}
		if i%(16000/2) == 0 {
			partials = append(partials, st.Partial())
		}
	}
	tr, err := st.End()
	if err != nil {
		t.Fatal(err)
	}
	st.Close() // no-op after End
	t.Logf("partials %q, final %q", partials, tr.Text)
	if norm(tr.Text) != norm(s) || len(tr.Segments) == 0 || tr.Engine != pocketsphinx.Version {
		t.Fatalf("final %q, want %q", tr.Text, s)
	}
	last := partials[len(partials)-1]
	if last == "" || !strings.HasPrefix(norm(s), strings.Fields(norm(last))[0]) {
		t.Fatalf("partials %q", partials)
	}
	if err := st.Write(a.Samples[:320]); assist.KindOf(err) != assist.KindInvalid {
		t.Fatalf("write after end: %v", err)
	}
	// The decoder went back to the pool: a second stream gets it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st2, err := e.Start(ctx, "en")
	if err != nil {
		t.Fatal(err)
	}
	// A second stream must wait for the pool's only decoder.
	ctx3, cancel3 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel3()
	if _, err := e.Start(ctx3, "en"); assist.KindOf(err) != assist.KindCanceled && assist.KindOf(err) != assist.KindTimeout {
		t.Fatalf("a second stream on a one-decoder pool: %v", err)
	}
	st2.Close()
	if _, err := e.Start(context.Background(), "fi"); assist.KindOf(err) != assist.KindInvalid {
		t.Fatalf("Finnish stream: %v", err)
	}
}

// With every decoder taken, callers wait a bounded time in a bounded line,
// then are refused as busy.
func TestBusy(t *testing.T) {
	newEngine(t, 1) // fails or skips without the engine
	e, err := pocketsphinx.New(pocketsphinx.Config{Decoders: 1, MaxWaiting: 1, MaxWait: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	held, err := e.Start(context.Background(), "en")
	if err != nil {
		t.Fatal(err)
	}
	a := speech.Audio{SampleRate: 16000, Samples: make([]float32, 1600)}
	waited := make(chan error, 1)
	go func() {
		_, err := e.Transcribe(context.Background(), a, "en")
		waited <- err
	}()
	for e.Waiting() == 0 { // until the first caller waits
		time.Sleep(time.Millisecond)
	}
	if _, err := e.Transcribe(context.Background(), a, "en"); assist.KindOf(err) != assist.KindBusy {
		t.Fatalf("a caller beyond the line: %v, want busy", err)
	}
	if err := <-waited; assist.KindOf(err) != assist.KindBusy || assist.RetryAfterOf(err) == 0 {
		t.Fatalf("a caller that waited too long: %v, want busy with a retry hint", err)
	}
	held.Close()
	if _, err := e.Transcribe(context.Background(), a, "en"); err != nil {
		t.Fatalf("after the decoder came back: %v", err)
	}
}
