package config

import (
	"fmt"
	"time"

	"github.com/soteai/gateway/assist/interpret"
)

// Interpret bounds real-time interpretation sessions. Zero values take the
// defaults of assist/interpret (shown in assistd.example.yaml).
type Interpret struct {
	// Enabled serves /v1/interpret/sessions; default true.
	Enabled              *bool         `yaml:"enabled" env:"ENABLED"`
	MaxDuration          time.Duration `yaml:"max_duration" env:"MAX_DURATION"`
	MaxSessions          int           `yaml:"max_sessions" env:"MAX_SESSIONS"`
	MaxSessionsPerCaller int           `yaml:"max_sessions_per_caller" env:"MAX_SESSIONS_PER_CALLER"`
	MaxFrameBytes        int           `yaml:"max_frame_bytes" env:"MAX_FRAME_BYTES"`
	EventQueue           int           `yaml:"event_queue" env:"EVENT_QUEUE"`
	SlowClient           time.Duration `yaml:"slow_client" env:"SLOW_CLIENT"`
	IdleTimeout          time.Duration `yaml:"idle_timeout" env:"IDLE_TIMEOUT"`
	UtteranceQueue       int           `yaml:"utterance_queue" env:"UTTERANCE_QUEUE"`
	PartialEvery         time.Duration `yaml:"partial_every" env:"PARTIAL_EVERY"`
	MaxTranslationTokens int           `yaml:"max_translation_tokens" env:"MAX_TRANSLATION_TOKENS"`
}

// InterpretEnabled reports whether interpretation sessions are served.
func (c *Config) InterpretEnabled() bool { return c.Interpret.Enabled == nil || *c.Interpret.Enabled }

// InterpretConfig is the session limits for assist/interpret.
func (c *Config) InterpretConfig() interpret.Config {
	i := c.Interpret
	return interpret.Config{MaxDuration: i.MaxDuration, MaxSessions: i.MaxSessions, MaxSessionsPerCaller: i.MaxSessionsPerCaller,
		MaxFrameBytes: i.MaxFrameBytes, EventQueue: i.EventQueue, SlowClient: i.SlowClient, IdleTimeout: i.IdleTimeout, UtteranceQueue: i.UtteranceQueue,
		PartialEvery: i.PartialEvery, MaxTranslationTokens: i.MaxTranslationTokens}
}

func (i Interpret) validate() error {
	for key, d := range map[string]time.Duration{"max_duration": i.MaxDuration, "slow_client": i.SlowClient, "idle_timeout": i.IdleTimeout, "partial_every": i.PartialEvery} {
		if d < 0 {
			return fmt.Errorf("config: interpret.%s: must not be negative", key)
		}
	}
	for key, n := range map[string]int{"max_sessions": i.MaxSessions, "max_sessions_per_caller": i.MaxSessionsPerCaller,
		"max_frame_bytes": i.MaxFrameBytes, "event_queue": i.EventQueue, "utterance_queue": i.UtteranceQueue,
		"max_translation_tokens": i.MaxTranslationTokens} {
		if n < 0 {
			return fmt.Errorf("config: interpret.%s: must not be negative", key)
		}
	}
	return nil
}
