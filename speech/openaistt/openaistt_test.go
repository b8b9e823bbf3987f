package openaistt_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/speech"
	"github.com/soteai/gateway/speech/openaistt"
)

// fallbackFunc is a function-field fake of the local engine.
type fallbackFunc func(ctx context.Context, a speech.Audio, lang string) (speech.Transcript, error)

func (f fallbackFunc) Transcribe(ctx context.Context, a speech.Audio, lang string) (speech.Transcript, error) {
	return f(ctx, a, lang)
}

// upstream is a small OpenAI-compatible transcription server for unit
// tests; status is what it answers transcriptions with.
func upstream(t *testing.T, status int, calls *atomic.Int32) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/models":
			w.Write([]byte(`{"object":"list","data":[]}`))
		case openaistt.Path:
			calls.Add(1)
			if r.Header.Get("Authorization") != "Bearer k" {
				w.WriteHeader(401)
				return
			}
			f, _, err := r.FormFile("file")
			if err != nil || r.FormValue("model") != "whisper-x" || r.FormValue("response_format") != "verbose_json" {
				w.WriteHeader(400)
				w.Write([]byte(`{"error":{"message":"bad form"}}`))
				return
			}
			f.Close()
			if status != 200 {
				w.WriteHeader(status)
				w.Write([]byte(`{"error":{"message":"nope"}}`))
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"text": " hello there", "language": "finnish",
				"segments": []map[string]any{{"start": 0.5, "end": 1.25, "text": " hello there", "avg_logprob": -0.1}}})
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, hosts []openaistt.Host, fb speech.Transcriber) *openaistt.Client {
	up := openaistt.NewUpstreams(hosts, &http.Client{Timeout: 5 * time.Second})
	var pc []models.HostConfig
	for _, h := range hosts {
		pc = append(pc, models.HostConfig{Name: h.Name, URL: h.URL})
	}
	pool := models.NewPool(pc, up, models.Options{}, nil)
	pool.CheckNow(context.Background())
	t.Cleanup(pool.Close)
	c := &openaistt.Client{Pool: pool, Upstreams: up, Fallback: fb}
	if fb != nil {
		c.FallbackServes = func(lang string) error {
			if lang == "en" {
				return nil
			}
			return assist.Errorf(assist.KindInvalid, "English only")
		}
	}
	return c
}

func TestTranscribeFailoverAndFallback(t *testing.T) {
	var okCalls, badCalls atomic.Int32
	good := upstream(t, 200, &okCalls)
	broken := upstream(t, 503, &badCalls)
	a := speech.Audio{SampleRate: 8000, Samples: make([]float32, 8000)}
	var fbCalls atomic.Int32
	fb := fallbackFunc(func(ctx context.Context, a speech.Audio, lang string) (speech.Transcript, error) {
		fbCalls.Add(1)
		if a.SampleRate != speech.EngineSampleRate {
			t.Errorf("fallback got %d Hz", a.SampleRate)
		}
		return speech.Transcript{Text: "local", Engine: "local"}, nil
	})
	host := func(name, url string, langs ...string) openaistt.Host {
		return openaistt.Host{Name: name, URL: url, APIKey: "k", Model: "whisper-x", Languages: langs}
	}

	t.Run("a failing host is skipped", func(t *testing.T) {
		c := newClient(t, []openaistt.Host{host("broken", broken.URL), host("good", good.URL)}, fb)
		for range 3 { // round robin reaches the broken host at least once
			tr, err := c.At(assist.PriorityRealtime).Transcribe(context.Background(), a, "fi")
			if err != nil {
				t.Fatal(err)
			}
			if tr.Text != "hello there" || tr.Language != "fi" || len(tr.Segments) != 1 || tr.Engine != "openai-compatible whisper-x @ good" {
				t.Fatalf("%+v", tr)
			}
			if s := tr.Segments[0]; s.Start != 500*time.Millisecond || s.End != 1250*time.Millisecond || s.Confidence < 0.9 || s.Confidence > 0.91 {
				t.Fatalf("segment %+v", s)
			}
		}
		if badCalls.Load() == 0 {
			t.Fatal("the broken host was never tried")
		}
	})
	t.Run("a language no host serves goes to the fallback", func(t *testing.T) {
		c := newClient(t, []openaistt.Host{host("good", good.URL, "fi", "sv")}, fb)
		before := okCalls.Load()
		tr, err := c.Transcribe(context.Background(), a, "en")
		if err != nil || tr.Engine != "local" || okCalls.Load() != before {
			t.Fatalf("%+v %v", tr, err)
		}
		if err := c.Supports("fi"); err != nil {
			t.Fatal(err)
		}
		if err := c.Supports("so"); assist.KindOf(err) != assist.KindInvalid {
			t.Fatalf("Somali: %v", err)
		}
		if _, err := c.Transcribe(context.Background(), a, "so"); assist.KindOf(err) != assist.KindInvalid || !strings.Contains(assist.MessageOf(err), "so") {
			t.Fatalf("Somali: %v", err)
		}
	})
	t.Run("all hosts down: fallback for English, clear error otherwise", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		c := newClient(t, []openaistt.Host{host("dead", dead.URL)}, fb)
		fbCalls.Store(0)
		if tr, err := c.Transcribe(context.Background(), a, "en"); err != nil || tr.Engine != "local" || fbCalls.Load() != 1 {
			t.Fatalf("%+v %v", tr, err)
		}
		if _, err := c.Transcribe(context.Background(), a, "fi"); assist.KindOf(err) == "" || assist.KindOf(err) == assist.KindInternal {
			t.Fatalf("Finnish with every host down: %v", err)
		}
	})
	t.Run("a refusal is not failed over", func(t *testing.T) {
		var calls atomic.Int32
		refusing := upstream(t, 400, &calls)
		c := newClient(t, []openaistt.Host{host("refusing", refusing.URL)}, nil)
		_, err := c.Transcribe(context.Background(), a, "fi")
		if assist.KindOf(err) != assist.KindInvalid || !strings.Contains(assist.MessageOf(err), "nope") || calls.Load() != 1 {
			t.Fatalf("%v (%d calls)", err, calls.Load())
		}
	})
}

// streamingFallback is a fake local engine that streams.
type streamingFallback struct {
	fallbackFunc
	started *atomic.Int32
}

type fakeStream struct{ n int }

func (s *fakeStream) Write(p []float32) error { s.n += len(p); return nil }
func (s *fakeStream) Partial() string         { return "partial" }
func (s *fakeStream) End() (speech.Transcript, error) {
	return speech.Transcript{Text: "streamed", Engine: "local"}, nil
}
func (s *fakeStream) Close() {}

func (f streamingFallback) Start(ctx context.Context, lang string) (speech.Stream, error) {
	f.started.Add(1)
	return &fakeStream{}, nil
}

func TestStart(t *testing.T) {
	var calls, started atomic.Int32
	good := upstream(t, 200, &calls)
	fb := streamingFallback{fallbackFunc(func(ctx context.Context, a speech.Audio, lang string) (speech.Transcript, error) {
		return speech.Transcript{Text: "local"}, nil
	}), &started}
	c := newClient(t, []openaistt.Host{{Name: "good", URL: good.URL, APIKey: "k", Model: "whisper-x", Languages: []string{"fi"}}}, fb)
	frame := make([]float32, 320)

	// Finnish: a host serves it; the utterance is buffered and sent at End.
	st, err := c.Start(context.Background(), "fi")
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		st.Write(frame)
	}
	if st.Partial() != "" {
		t.Fatal("a buffered stream has no partials")
	}
	tr, err := st.End()
	if err != nil || tr.Text != "hello there" || calls.Load() != 1 {
		t.Fatalf("%+v %v (%d calls)", tr, err, calls.Load())
	}
	if err := st.Write(frame); assist.KindOf(err) != assist.KindInvalid {
		t.Fatalf("write after end: %v", err)
	}
	st.Close()

	// English: no host serves it; the local engine streams.
	st, err = c.Start(context.Background(), "en")
	if err != nil {
		t.Fatal(err)
	}
	st.Write(frame)
	if tr, err := st.End(); err != nil || tr.Text != "streamed" || started.Load() != 1 || st.Partial() != "partial" {
		t.Fatalf("%+v %v", tr, err)
	}
	// Somali: nobody serves it, refused at Start.
	if _, err := c.Start(context.Background(), "so"); assist.KindOf(err) != assist.KindInvalid {
		t.Fatalf("Somali: %v", err)
	}
}
