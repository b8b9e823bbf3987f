package config

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/speech/openaistt"
)

// KindTranscription marks a host that serves the OpenAI-compatible
// POST /v1/audio/transcriptions (whisper.cpp, speaches, vLLM, another
// gateway) instead of Ollama.
const KindTranscription = "transcription"

// Speech configures recognition and synthesis (POST /v1/audio/*, and the
// interpretation sessions).
type Speech struct {
	// MaxAudio is the longest audio accepted in one upload.
	MaxAudio time.Duration `yaml:"max_audio" env:"MAX_AUDIO"`
	// MaxUploadBytes bounds a multipart audio upload (it replaces
	// limits.max_body_bytes on that route).
	MaxUploadBytes int64 `yaml:"max_upload_bytes" env:"MAX_UPLOAD_BYTES"`
	// MaxSpeechChars is the longest text synthesized at once.
	MaxSpeechChars int `yaml:"max_speech_chars" env:"MAX_SPEECH_CHARS"`
	// PocketSphinx is the in-process English recogniser, the fallback
	// when no transcription host serves.
	PocketSphinx PocketSphinx `yaml:"pocketsphinx" envPrefix:"POCKETSPHINX_"`
	// Espeak runs espeak-ng, a voice per language.
	Espeak Espeak `yaml:"espeak" envPrefix:"ESPEAK_"`
	// EnglishVoice is "flite" (more natural) or "espeak".
	EnglishVoice string `yaml:"english_voice" env:"ENGLISH_VOICE"`
}

// PocketSphinx configures the CPU recogniser.
type PocketSphinx struct {
	Enabled  bool   `yaml:"enabled" env:"ENABLED"`
	ModelDir string `yaml:"model_dir" env:"MODEL_DIR"` // Debian's pocketsphinx-en-us when empty
	Decoders int    `yaml:"decoders" env:"DECODERS"`   // utterances decoded at once; the CPU count when 0
	// Options are extra decoder settings, e.g. {maxhmmpf: "2000", maxwpf: "5"}
	// (faster, see pocketsphinx.FastOptions); a wrong one fails at the
	// first transcription with a clear error.
	Options map[string]string `yaml:"options"`
	// MaxWaiting callers may wait for a free decoder, each at most
	// MaxWait; beyond either they get 429 busy.
	MaxWaiting int           `yaml:"max_waiting" env:"MAX_WAITING"`
	MaxWait    time.Duration `yaml:"max_wait" env:"MAX_WAIT"`
}

// Espeak configures espeak-ng.
type Espeak struct {
	Binary  string            `yaml:"binary" env:"BINARY"`
	Speed   int               `yaml:"speed" env:"SPEED"` // words per minute
	Timeout time.Duration     `yaml:"timeout" env:"TIMEOUT"`
	Voices  map[string]string `yaml:"voices"` // language tag -> espeak-ng voice, over the built-in choice
}

// DefaultSpeech are the speech defaults.
func DefaultSpeech() Speech {
	return Speech{
		MaxAudio:       10 * time.Minute,
		MaxUploadBytes: 64 << 20,
		MaxSpeechChars: 4000,
		PocketSphinx:   PocketSphinx{Enabled: true, MaxWaiting: 16, MaxWait: 30 * time.Second},
		Espeak:         Espeak{Binary: "espeak-ng", Speed: 160, Timeout: 20 * time.Second},
		EnglishVoice:   "flite",
	}
}

func (s Speech) validate() error {
	bad := func(key, msg string) error { return fmt.Errorf("config: speech.%s: %s", key, msg) }
	switch {
	case s.MaxAudio <= 0:
		return bad("max_audio", "must be a positive duration such as 10m")
	case s.MaxUploadBytes <= 0:
		return bad("max_upload_bytes", "must be positive")
	case s.MaxSpeechChars <= 0:
		return bad("max_speech_chars", "must be positive")
	case s.PocketSphinx.Decoders < 0:
		return bad("pocketsphinx.decoders", "must not be negative")
	case s.PocketSphinx.MaxWaiting <= 0:
		return bad("pocketsphinx.max_waiting", "must be positive")
	case s.PocketSphinx.MaxWait <= 0:
		return bad("pocketsphinx.max_wait", "must be a positive duration such as 30s")
	case s.Espeak.Speed < 80 || s.Espeak.Speed > 450:
		return bad("espeak.speed", "must be 80–450 words per minute")
	case s.Espeak.Timeout <= 0:
		return bad("espeak.timeout", "must be a positive duration such as 20s")
	case s.EnglishVoice != "flite" && s.EnglishVoice != "espeak":
		return bad("english_voice", fmt.Sprintf("must be flite or espeak, got %q", s.EnglishVoice))
	}
	return nil
}

func validateHostKind(key string, h Host) error {
	switch h.Kind {
	case "", "ollama":
		if h.Model != "" || h.APIKeyFile != "" || h.HealthPath != "" || len(h.Languages) > 0 {
			return fmt.Errorf("config: %s: model, api_key_file, health_path and languages are for kind: transcription hosts", key)
		}
	case KindTranscription:
		if h.HealthPath != "" && !strings.HasPrefix(h.HealthPath, "/") {
			return fmt.Errorf("config: %s.health_path: must start with /, got %q", key, h.HealthPath)
		}
		if h.APIKeyFile != "" {
			if _, err := os.Stat(h.APIKeyFile); err != nil {
				return fmt.Errorf("config: %s.api_key_file: %w", key, err)
			}
		}
	default:
		return fmt.Errorf("config: %s.kind: must be ollama or transcription, got %q", key, h.Kind)
	}
	return nil
}

// TranscriptionHosts are the hosts of kind transcription, for their own
// models.Pool, and their upstream settings (the key read from its file).
func (c *Config) TranscriptionHosts() ([]models.HostConfig, []openaistt.Host, error) {
	var pool []models.HostConfig
	var up []openaistt.Host
	for i, h := range c.Hosts {
		if h.Kind != KindTranscription {
			continue
		}
		key := ""
		if h.APIKeyFile != "" {
			b, err := os.ReadFile(h.APIKeyFile)
			if err != nil {
				return nil, nil, fmt.Errorf("config: hosts[%d].api_key_file: %w", i, err)
			}
			key = strings.TrimSpace(string(b))
		}
		name := h.Name
		if name == "" {
			name = h.URL
		}
		pool = append(pool, models.HostConfig{Name: name, URL: h.URL, Labels: h.Labels, MaxConcurrent: h.MaxConcurrent})
		up = append(up, openaistt.Host{Name: name, URL: h.URL, APIKey: key, Model: h.Model, HealthPath: h.HealthPath, Languages: h.Languages})
	}
	return pool, up, nil
}
