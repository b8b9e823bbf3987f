package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/cmd/assistd/internal/httpapi"
	"github.com/soteai/gateway/cmd/internal/config"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/speech"
	"github.com/soteai/gateway/speech/espeak"
	"github.com/soteai/gateway/speech/openaistt"
	"github.com/soteai/gateway/speech/pocketsphinx"
	"github.com/soteai/gateway/speech/sox"
)

// speechEngines are the recognition and synthesis engines, wired from the
// configuration: upstream transcription hosts in a pool of their own,
// PocketSphinx in-process for English, espeak-ng (and flite) for speech.
type speechEngines struct {
	pool      *models.Pool
	upstreams *openaistt.Upstreams
	stt       *openaistt.Client
	synth     speech.Synthesizer
	close     func()
}

func newSpeech(ctx context.Context, cfg *config.Config, log *slog.Logger) (*speechEngines, error) {
	poolHosts, upHosts, err := cfg.TranscriptionHosts()
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: cfg.Limits.UpstreamDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ResponseHeaderTimeout: cfg.Limits.UpstreamHeaderTimeout,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
	}}
	se := &speechEngines{upstreams: openaistt.NewUpstreams(upHosts, client)}
	se.pool = models.NewPool(poolHosts, se.upstreams, cfg.PoolOptions(), log.With("pool", "transcription"))
	se.pool.Start(ctx)
	closers := []func(){se.pool.Close, client.CloseIdleConnections}
	se.stt = &openaistt.Client{Pool: se.pool, Upstreams: se.upstreams, Priority: assist.PriorityInteractive, Log: log}
	if ps := cfg.Speech.PocketSphinx; ps.Enabled {
		eng, err := pocketsphinx.New(pocketsphinx.Config{ModelDir: ps.ModelDir, Decoders: ps.Decoders, Options: ps.Options,
			MaxWaiting: ps.MaxWaiting, MaxWait: ps.MaxWait})
		if err != nil {
			se.pool.Close()
			return nil, fmt.Errorf("speech.pocketsphinx: %s (install pocketsphinx-en-us or set speech.pocketsphinx.enabled: false)", assist.MessageOf(err))
		}
		closers = append(closers, func() { eng.Close() })
		se.stt.Fallback, se.stt.FallbackServes = eng, pocketsphinx.Language
	}
	ecfg := espeak.Config{Binary: cfg.Speech.Espeak.Binary, Speed: cfg.Speech.Espeak.Speed, Timeout: cfg.Speech.Espeak.Timeout,
		MaxChars: cfg.Speech.MaxSpeechChars, Voices: cfg.Speech.Espeak.Voices}
	if cfg.Speech.EnglishVoice == "flite" {
		ecfg.English = espeak.Flite{Timeout: cfg.Speech.Espeak.Timeout, MaxChars: cfg.Speech.MaxSpeechChars}
	}
	if eng, err := espeak.New(ecfg); err != nil {
		log.Warn("speech synthesis unavailable", "reason", assist.MessageOf(err))
		se.synth = unavailableSynth{assist.MessageOf(err)}
	} else {
		se.synth = eng
	}
	se.close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	return se, nil
}

// deps are the HTTP endpoints' view of the engines.
func (se *speechEngines) deps(cfg *config.Config) *httpapi.SpeechDeps {
	return &httpapi.SpeechDeps{
		Transcriber:    func(p assist.Priority) speech.Transcriber { return se.stt.At(p) },
		Synthesizer:    se.synth,
		MaxAudio:       cfg.Speech.MaxAudio,
		MaxUploadBytes: cfg.Speech.MaxUploadBytes,
		MaxChars:       cfg.Speech.MaxSpeechChars,
		Converter:      sox.Converter{Timeout: cfg.Speech.Espeak.Timeout},
		Hosts:          se.pool.Stats,
	}
}

// reload applies a reloaded host list to the transcription pool.
func (se *speechEngines) reload(ctx context.Context, cfg *config.Config) error {
	poolHosts, upHosts, err := cfg.TranscriptionHosts()
	if err != nil {
		return err
	}
	se.upstreams.SetHosts(upHosts)
	se.pool.SetHosts(poolHosts)
	se.pool.CheckNow(ctx)
	return nil
}

// unavailableSynth answers when no synthesizer could start.
type unavailableSynth struct{ why string }

func (u unavailableSynth) Synthesize(context.Context, string, string) (speech.Speech, error) {
	return speech.Speech{}, assist.E(assist.KindUnavailable, "assistd.speech", "speech synthesis is unavailable: "+u.why)
}
