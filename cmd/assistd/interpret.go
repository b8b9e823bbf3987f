package main

import (
	"context"
	"log/slog"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/interpret"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/cmd/internal/config"
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/speech"
	"github.com/soteai/gateway/speech/openaistt"
	"github.com/soteai/gateway/speech/pocketsphinx"
)

// voiceChecker is what espeak.Engine offers to refuse, at session start, a
// language it has no voice for.
type voiceChecker interface {
	Voice(lang string) (string, error)
}

// upstreamServes reports whether a transcription host serves lang now.
func upstreamServes(se *speechEngines, lang string) bool {
	for _, m := range se.pool.Models() {
		if m.Name == openaistt.PoolModel(lang) {
			return true
		}
	}
	return false
}

// newInterpreter wires interpretation sessions on the speech engines
// (transcription hosts at realtime priority, else PocketSphinx for
// English; espeak-ng voices), the audited translation call and glossary
// search over retrieval collections. It returns nil when interpretation is
// disabled.
func newInterpreter(ctx context.Context, cfg *config.Config, se *speechEngines, rec *record.Recorder, rs *retrieval.Service, log *slog.Logger) (*interpret.Service, error) {
	if !cfg.InterpretEnabled() {
		return nil, nil
	}
	stt := se.stt.At(assist.PriorityRealtime)
	model, _ := cfg.TaskModels().Resolve(ctx, assist.TaskInterpret)
	d := interpret.Deps{
		Recognizer: func(lang string) (interpret.Recognizer, error) {
			if err := stt.Supports(lang); err != nil {
				return interpret.Recognizer{}, err
			}
			if !upstreamServes(se, lang) && stt.FallbackServes != nil && stt.FallbackServes(lang) == nil {
				// No host serves the language: the in-process engine does,
				// streaming each utterance while it is spoken when it can.
				r := interpret.Recognizer{Transcriber: stt.Fallback, Engine: pocketsphinx.Version}
				r.Streaming, _ = stt.Fallback.(speech.StreamingTranscriber)
				return r, nil
			}
			return interpret.Recognizer{Transcriber: stt, Engine: "transcription hosts, else " + pocketsphinx.Version}, nil
		},
		Voice: func(lang string) (interpret.Voice, error) {
			engine := "speech synthesis"
			if vc, ok := se.synth.(voiceChecker); ok {
				v, err := vc.Voice(lang)
				if err != nil {
					return interpret.Voice{}, err
				}
				engine = "espeak-ng voice " + v
			} else if _, err := se.synth.Synthesize(ctx, "", lang); assist.KindOf(err) == assist.KindUnavailable {
				return interpret.Voice{}, err
			}
			return interpret.Voice{Synthesizer: se.synth, Engine: engine}, nil
		},
		Rec: rec, Model: model.Name, Logger: log,
	}
	if rs != nil {
		d.Glossary = rs
	}
	return interpret.New(cfg.InterpretConfig(), d)
}
