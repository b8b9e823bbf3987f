package httpapi

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/soteai/gateway/speech"
)

func TestTranscriptionBody(t *testing.T) {
	tr := speech.Transcript{Text: "hello there. how are you", Language: "en", Segments: []speech.Segment{
		{Start: 500 * time.Millisecond, End: 1250 * time.Millisecond, Text: "hello there.", Confidence: 0.5},
		{Start: 61*time.Minute + 2*time.Second, End: 61*time.Minute + 3500*time.Millisecond, Text: "how are you", Confidence: -1},
	}}
	for _, tc := range []struct{ format, ctype, want string }{
		{"json", "application/json", `{"text":"hello there. how are you"}`},
		{"text", "text/plain; charset=UTF-8", "hello there. how are you\n"},
		{"srt", "text/plain; charset=UTF-8", "1\n00:00:00,500 --> 00:00:01,250\nhello there.\n\n2\n01:01:02,000 --> 01:01:03,500\nhow are you\n\n"},
		{"vtt", "text/plain; charset=UTF-8", "WEBVTT\n\n00:00:00.500 --> 00:00:01.250\nhello there.\n\n01:01:02.000 --> 01:01:03.500\nhow are you\n\n"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			ctype, b := transcriptionBody(tc.format, tr, 62*time.Minute)
			if ctype != tc.ctype || string(b) != tc.want {
				t.Fatalf("got %s %q, want %s %q", ctype, b, tc.ctype, tc.want)
			}
		})
	}
	_, b := transcriptionBody("verbose_json", tr, 62*time.Minute)
	var v struct {
		Task, Language, Text string
		Duration             float64
		Segments             []struct {
			ID         int
			Start, End float64
			Text       string
			AvgLogprob *float64 `json:"avg_logprob"`
			Confidence float64
		}
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Task != "transcribe" || v.Language != "en" || v.Duration != 3720 || len(v.Segments) != 2 || v.Segments[1].ID != 1 ||
		v.Segments[0].Start != 0.5 || math.Abs(*v.Segments[0].AvgLogprob-math.Log(0.5)) > 1e-9 || v.Segments[1].AvgLogprob != nil || v.Segments[1].Confidence != -1 {
		t.Fatalf("verbose_json: %s", b)
	}
}
