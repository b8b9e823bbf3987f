package speech_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/soteai/gateway/speech"
	"github.com/soteai/gateway/speech/speechtest"
)

// noisy adds white noise at about level dBFS (RMS), seeded for repeatability.
func noisy(a speech.Audio, amp float32) speech.Audio {
	r := rand.New(rand.NewPCG(1, 2))
	out := speech.Audio{SampleRate: a.SampleRate, Samples: make([]float32, len(a.Samples))}
	for i, s := range a.Samples {
		out.Samples[i] = s + amp*float32(r.NormFloat64())
	}
	return out
}

func TestSegmenter(t *testing.T) {
	const rate = speech.EngineSampleRate
	one := speechtest.Flite(t, speechtest.Sentences[0])
	two := speechtest.Flite(t, speechtest.Sentences[1])
	sil := func(d time.Duration) speech.Audio { return speechtest.Silence(d, rate) }
	click := speech.Audio{SampleRate: rate, Samples: make([]float32, rate/20)} // 50 ms burst
	for i := range click.Samples {
		click.Samples[i] = 0.5 * float32(1-2*(i%2))
	}
	long := speechtest.Concat(one, two, one, two) // ~8 s without a pause

	type span struct{ start, end time.Duration }
	at := func(parts ...speech.Audio) time.Duration { return speechtest.Concat(parts...).Duration() }
	for _, tc := range []struct {
		name   string
		audio  speech.Audio
		cfg    speech.VADConfig
		want   []span // speech boundaries, without pre-roll and hangover
		cut    bool   // the first utterance ends by MaxSegment
		frame  int    // samples per Write
		noFlsh bool
	}{
		{name: "two sentences with pauses", audio: speechtest.Concat(sil(time.Second), one, sil(time.Second), two, sil(time.Second)),
			want: []span{{time.Second, at(sil(time.Second), one)}, {at(sil(time.Second), one, sil(time.Second)), at(sil(time.Second), one, sil(time.Second), two)}}, frame: 320},
		{name: "odd frame sizes", audio: speechtest.Concat(sil(time.Second), one, sil(time.Second), two, sil(time.Second)),
			want: []span{{time.Second, at(sil(time.Second), one)}, {at(sil(time.Second), one, sil(time.Second)), at(sil(time.Second), one, sil(time.Second), two)}}, frame: 77},
		{name: "in steady background noise", audio: noisy(speechtest.Concat(sil(time.Second), one, sil(time.Second), two, sil(time.Second)), 0.003),
			want: []span{{time.Second, at(sil(time.Second), one)}, {at(sil(time.Second), one, sil(time.Second)), at(sil(time.Second), one, sil(time.Second), two)}}, frame: 320},
		{name: "speech running into the end of the stream is flushed", audio: speechtest.Concat(sil(500*time.Millisecond), one),
			want: []span{{500 * time.Millisecond, at(sil(500*time.Millisecond), one)}}, frame: 320},
		{name: "a click is not speech", audio: speechtest.Concat(sil(time.Second), click, sil(time.Second)), frame: 320},
		{name: "silence only", audio: sil(3 * time.Second), frame: 320},
		{name: "a long monologue is cut at MaxSegment", audio: speechtest.Concat(sil(time.Second), long, sil(time.Second)),
			cfg: speech.VADConfig{MaxSegment: 3 * time.Second}, cut: true, frame: 320},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seg, err := speech.NewSegmenter(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got []speech.Utterance
			for i := 0; i < len(tc.audio.Samples); i += tc.frame {
				got = append(got, seg.Write(tc.audio.Samples[i:min(i+tc.frame, len(tc.audio.Samples))])...)
				if u, ok := seg.Pending(); ok && u.Start > u.End {
					t.Fatalf("pending utterance %s..%s", u.Start, u.End)
				}
			}
			got = append(got, seg.Flush()...)
			for _, u := range got {
				t.Logf("utterance %s..%s (cut %v)", u.Start, u.End, u.Cut)
				if u.Audio.Duration() != u.End-u.Start {
					t.Fatalf("audio of %s for %s..%s", u.Audio.Duration(), u.Start, u.End)
				}
			}
			if tc.cut {
				if len(got) < 3 || !got[0].Cut {
					t.Fatalf("got %d utterances, want the monologue cut into pieces", len(got))
				}
				for _, u := range got {
					if u.End-u.Start > 3*time.Second+20*time.Millisecond {
						t.Fatalf("utterance of %s is longer than MaxSegment", u.End-u.Start)
					}
				}
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d utterances, want %d", len(got), len(tc.want))
			}
			// flite pads its output with a little silence, and the
			// utterance includes pre-roll (200ms) and hangover (500ms).
			const slack = 250 * time.Millisecond
			for i, w := range tc.want {
				u := got[i]
				if u.Start > w.start+slack || u.Start < w.start-slack {
					t.Errorf("utterance %d starts at %s, want about %s", i, u.Start, w.start)
				}
				if u.End < w.end-slack || u.End > w.end+600*time.Millisecond {
					t.Errorf("utterance %d ends at %s, want about %s plus hangover", i, u.End, w.end)
				}
			}
		})
	}
}

func TestNewSegmenterInvalid(t *testing.T) {
	if _, err := speech.NewSegmenter(speech.VADConfig{Frame: time.Second}); err == nil {
		t.Fatal("a one-second frame was accepted")
	}
	if _, err := speech.NewSegmenter(speech.VADConfig{MinSpeech: time.Second, MaxSegment: 500 * time.Millisecond}); err == nil {
		t.Fatal("MaxSegment below MinSpeech was accepted")
	}
}
