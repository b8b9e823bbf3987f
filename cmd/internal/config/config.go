package config

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/goccy/go-yaml"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/clinic"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/evals/suite"
)

// Config is the whole gateway configuration. See assistd.example.yaml.
type Config struct {
	Listen   string   `yaml:"listen" env:"LISTEN"`
	TLS      TLS      `yaml:"tls" envPrefix:"TLS_"`
	Database Database `yaml:"database" envPrefix:"DATABASE_"`
	Hosts    []Host   `yaml:"hosts"`
	// OllamaURLs adds hosts from the environment (ASSIST_OLLAMA_URLS,
	// comma-separated), each with the default limit and no labels.
	OllamaURLs []string  `yaml:"-" env:"OLLAMA_URLS"`
	Models     Models    `yaml:"models" envPrefix:"MODELS_"`
	Limits     Limits    `yaml:"limits" envPrefix:"LIMITS_"`
	Queues     Queues    `yaml:"queues"`
	Health     Health    `yaml:"health" envPrefix:"HEALTH_"`
	Auth       Auth      `yaml:"auth" envPrefix:"AUTH_"`
	Audit      Audit     `yaml:"audit" envPrefix:"AUDIT_"`
	Retrieval  Retrieval `yaml:"retrieval" envPrefix:"RETRIEVAL_"`
	CDS        CDS       `yaml:"cds" envPrefix:"CDS_"`
	// Clinic is the digital clinic assistant: urgency scale, the county's
	// replies for red flags, limits (assist/clinic.Config).
	Clinic   clinic.Config `yaml:"clinic"`
	Log      Log           `yaml:"log" envPrefix:"LOG_"`
	Evals    Evals         `yaml:"evals" envPrefix:"EVALS_"`
	Speech   Speech        `yaml:"speech" envPrefix:"SPEECH_"`
	Releases Releases      `yaml:"releases" envPrefix:"RELEASES_"`
	// Summary tunes visit notes and background summaries.
	Summary Summary `yaml:"summary" envPrefix:"SUMMARY_"`
	// Interpret bounds real-time interpretation sessions.
	Interpret Interpret `yaml:"interpret" envPrefix:"INTERPRET_"`
}

// Evals configures evaluation runs (assist eval).
type Evals struct {
	// DataDir holds the large evaluation datasets that are not shipped
	// (suites name them as "data:<path>"), e.g. the full NTREX-128 file.
	DataDir string `yaml:"data_dir" env:"DATA_DIR"`
}

// Summary tunes visit notes and background summaries.
type Summary struct {
	// TemplatesDir holds the county's own note templates (*.json), added to
	// the built-in ones.
	TemplatesDir string `yaml:"templates_dir" env:"TEMPLATES_DIR"`
	// NumCtx is the model context (tokens) a prompt must fit; longer
	// transcripts are map-reduced. NumPredict bounds each answer.
	NumCtx      int `yaml:"num_ctx" env:"NUM_CTX"`
	NumPredict  int `yaml:"num_predict" env:"NUM_PREDICT"`
	MaxParallel int `yaml:"max_parallel" env:"MAX_PARALLEL"`
	// Input limits: turns, characters in one turn, characters in all.
	MaxTurns     int `yaml:"max_turns" env:"MAX_TURNS"`
	MaxTurnChars int `yaml:"max_turn_chars" env:"MAX_TURN_CHARS"`
	MaxChars     int `yaml:"max_chars" env:"MAX_CHARS"`
}

// TLS is served when both files are set.
type TLS struct {
	CertFile string `yaml:"cert_file" env:"CERT_FILE"`
	KeyFile  string `yaml:"key_file" env:"KEY_FILE"`
}

// Database is the PostgreSQL connection.
type Database struct {
	URL      string `yaml:"url" env:"URL"`
	URLFile  string `yaml:"url_file" env:"URL_FILE"`
	MaxConns int32  `yaml:"max_conns" env:"MAX_CONNS"`
}

// Host is one Ollama host, or, with kind "transcription", one speech
// recognition host (see TranscriptionHosts in speech.go).
type Host struct {
	Name          string   `yaml:"name"`
	URL           string   `yaml:"url"`
	Labels        []string `yaml:"labels"`
	MaxConcurrent int      `yaml:"max_concurrent"`
	// RealtimeReserve of the max_concurrent slots only realtime work
	// (interpretation) may take, so batch work never delays it.
	RealtimeReserve int    `yaml:"realtime_reserve"`
	Kind            string `yaml:"kind"` // "ollama" (default) or "transcription"
	// Transcription hosts only: the model name sent upstream, a bearer
	// key file (another gateway's token), the health-check path and the
	// languages served (empty: all Whisper languages).
	Model      string   `yaml:"model"`
	APIKeyFile string   `yaml:"api_key_file"`
	HealthPath string   `yaml:"health_path"`
	Languages  []string `yaml:"languages"`
}

// Models names the models the gateway's own tasks use.
type Models struct {
	Chat      string `yaml:"chat" env:"CHAT"`           // summaries, risk explanations
	Embedding string `yaml:"embedding" env:"EMBEDDING"` // retrieval
	// Tasks names the model of a task when it is not the chat model, e.g.
	// {visit_summary: llama3.1:8b, interpretation: aya-expanse:8b}.
	Tasks map[assist.Task]string `yaml:"tasks"`
}

// TaskModels resolves each task's model from the configuration: its own
// entry under models.tasks, else the chat model.
func (c *Config) TaskModels() record.Configured {
	return record.Configured{Default: c.Models.Chat, Tasks: c.Models.Tasks}
}

// Limits bound what one request may cost.
type Limits struct {
	MaxBodyBytes    int64         `yaml:"max_body_bytes" env:"MAX_BODY_BYTES"`
	RequestTimeout  time.Duration `yaml:"request_timeout" env:"REQUEST_TIMEOUT"`
	BodyReadTimeout time.Duration `yaml:"body_read_timeout" env:"BODY_READ_TIMEOUT"`
	// MaxAnswerBytes bounds a non-streaming model answer the gateway
	// buffers to record it before release.
	MaxAnswerBytes        int64         `yaml:"max_answer_bytes" env:"MAX_ANSWER_BYTES"`
	ReadHeaderTimeout     time.Duration `yaml:"read_header_timeout" env:"READ_HEADER_TIMEOUT"`
	IdleTimeout           time.Duration `yaml:"idle_timeout" env:"IDLE_TIMEOUT"`
	ShutdownTimeout       time.Duration `yaml:"shutdown_timeout" env:"SHUTDOWN_TIMEOUT"`
	UpstreamDialTimeout   time.Duration `yaml:"upstream_dial_timeout" env:"UPSTREAM_DIAL_TIMEOUT"`
	UpstreamHeaderTimeout time.Duration `yaml:"upstream_header_timeout" env:"UPSTREAM_HEADER_TIMEOUT"`
	MaxAttempts           int           `yaml:"max_attempts" env:"MAX_ATTEMPTS"`
}

// Queue bounds one priority class's waiting line.
type Queue struct {
	Limit   int           `yaml:"limit"`
	Timeout time.Duration `yaml:"timeout"`
	// FirstByte is how long a host may take to send the first bytes of
	// its answer before the request moves to another host and the host
	// is probed with a one-token generation.
	FirstByte time.Duration `yaml:"first_byte"`
}

// Queues has one queue per priority class.
type Queues struct {
	Realtime    Queue `yaml:"realtime"`
	Interactive Queue `yaml:"interactive"`
	Batch       Queue `yaml:"batch"`
}

// Health tunes host health checks and the circuit breaker.
type Health struct {
	Interval         time.Duration `yaml:"interval" env:"INTERVAL"`
	ProbeTimeout     time.Duration `yaml:"probe_timeout" env:"PROBE_TIMEOUT"`
	BreakerThreshold int           `yaml:"breaker_threshold" env:"BREAKER_THRESHOLD"`
	BreakerCooldown  time.Duration `yaml:"breaker_cooldown" env:"BREAKER_COOLDOWN"`
	// WorkProbeTimeout bounds the one-token generation that must succeed
	// on a host that missed a first-byte deadline before it gets work.
	WorkProbeTimeout time.Duration `yaml:"work_probe_timeout" env:"WORK_PROBE_TIMEOUT"`
}

// Auth tunes authentication.
type Auth struct {
	// OllamaMaxSkew is how far an Ollama key signature's timestamp may be
	// from the gateway's clock.
	// The stock client signs only METHOD,PATH?ts=, not the body: a
	// captured header can be replayed with another body within this
	// window, so keep it short.
	OllamaMaxSkew time.Duration `yaml:"ollama_max_skew" env:"OLLAMA_MAX_SKEW"`
	// OllamaKeysOverHTTP accepts Ollama key signatures over plain HTTP
	// from other machines too. Off by default: over plain HTTP they are
	// accepted only from loopback (e.g. a TLS-terminating proxy on the
	// same machine), because a captured header can be replayed.
	OllamaKeysOverHTTP bool `yaml:"ollama_keys_over_http" env:"OLLAMA_KEYS_OVER_HTTP"`
	// CacheTTL is how long a verified credential is trusted before it is
	// looked up again (bounds how late a revocation takes effect).
	CacheTTL time.Duration `yaml:"cache_ttl" env:"CACHE_TTL"`
	// Organisation is recorded with every actor (the county's name).
	Organisation string `yaml:"organisation" env:"ORGANISATION"`
	// MaxPriority is the highest scheduling class per role (realtime,
	// interactive, batch). Roles left out keep the default: realtime for
	// interpreters, interactive for everyone else.
	MaxPriority map[string]string `yaml:"max_priority" env:"MAX_PRIORITY"`
	// CredentialMaxPriority overrides MaxPriority for single credentials
	// (token or Ollama key id).
	CredentialMaxPriority map[string]string `yaml:"credential_max_priority" env:"CREDENTIAL_MAX_PRIORITY"`
	// PriorityOverCeiling is what happens to a request above its
	// ceiling: "refuse" (403) or "lower" (served at the ceiling).
	PriorityOverCeiling string `yaml:"priority_over_ceiling" env:"PRIORITY_OVER_CEILING"`
}

// Audit configures the audit log. Keys are base64 or hex, given inline
// (for tests only) or, preferably, as *_file paths.
type Audit struct {
	Enabled           *bool         `yaml:"enabled" env:"ENABLED"`
	HMACKey           string        `yaml:"hmac_key" env:"HMAC_KEY"`
	HMACKeyFile       string        `yaml:"hmac_key_file" env:"HMAC_KEY_FILE"`
	CheckpointKey     string        `yaml:"checkpoint_key" env:"CHECKPOINT_KEY"`
	CheckpointKeyFile string        `yaml:"checkpoint_key_file" env:"CHECKPOINT_KEY_FILE"`
	ContentKey        string        `yaml:"content_key" env:"CONTENT_KEY"`
	ContentKeyFile    string        `yaml:"content_key_file" env:"CONTENT_KEY_FILE"`
	Retention         time.Duration `yaml:"retention" env:"RETENTION"`
	CheckpointEvery   time.Duration `yaml:"checkpoint_every" env:"CHECKPOINT_EVERY"`
	// ReviewScope is which AI outputs clinicians and interpreters may
	// review: "own" (theirs and their organisation's integrations') or
	// "organisation" (any of their organisation's).
	ReviewScope string `yaml:"review_scope" env:"REVIEW_SCOPE"`
}

// Retrieval tunes the vector index.
type Retrieval struct {
	HNSWM              int   `yaml:"hnsw_m" env:"HNSW_M"`
	HNSWEfConstruction int   `yaml:"hnsw_ef_construction" env:"HNSW_EF_CONSTRUCTION"`
	HNSWEfSearch       int   `yaml:"hnsw_ef_search" env:"HNSW_EF_SEARCH"`
	MaxDocumentBytes   int64 `yaml:"max_document_bytes" env:"MAX_DOCUMENT_BYTES"`
}

// Log configures logging.
type Log struct {
	Level string `yaml:"level" env:"LEVEL"` // debug, info, warn, error
}

// Default returns the configuration used for keys the file leaves out.
func Default() Config {
	return Config{
		Listen:   "127.0.0.1:8080",
		Database: Database{MaxConns: 32},
		Limits: Limits{
			MaxBodyBytes:          8 << 20,
			RequestTimeout:        10 * time.Minute,
			BodyReadTimeout:       30 * time.Second,
			MaxAnswerBytes:        32 << 20,
			ReadHeaderTimeout:     10 * time.Second,
			IdleTimeout:           2 * time.Minute,
			ShutdownTimeout:       30 * time.Second,
			UpstreamDialTimeout:   3 * time.Second,
			UpstreamHeaderTimeout: 10 * time.Minute,
			MaxAttempts:           3,
		},
		Queues: Queues{
			Realtime:    Queue{Limit: 64, Timeout: 2 * time.Second, FirstByte: 10 * time.Second},
			Interactive: Queue{Limit: 256, Timeout: 30 * time.Second, FirstByte: time.Minute},
			Batch:       Queue{Limit: 1024, Timeout: 5 * time.Minute, FirstByte: 10 * time.Minute},
		},
		Health: Health{Interval: 5 * time.Second, ProbeTimeout: 3 * time.Second, BreakerThreshold: 3, BreakerCooldown: 15 * time.Second,
			WorkProbeTimeout: 30 * time.Second},
		Auth:      Auth{OllamaMaxSkew: 30 * time.Second, CacheTTL: 5 * time.Second, PriorityOverCeiling: "refuse"},
		Audit:     Audit{Retention: 0, CheckpointEvery: time.Minute, ReviewScope: "own"},
		Speech:    DefaultSpeech(),
		Retrieval: Retrieval{HNSWM: 16, HNSWEfConstruction: 64, HNSWEfSearch: 100, MaxDocumentBytes: 20 << 20},
		CDS:       defaultCDS(),
		Summary:   Summary{NumCtx: 8192, NumPredict: 1024, MaxParallel: 4, MaxTurns: 5000, MaxTurnChars: 20000, MaxChars: 1_000_000},
		Log:       Log{Level: "info"},
	}
}

// Load reads path (if not empty) over the defaults, applies ASSIST_*
// overrides from environ (os.Environ's form, "KEY=value"), resolves
// *_file settings and validates.
func Load(path string, environ []string) (*Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		var badDuration string
		parseDuration := yaml.CustomUnmarshaler[time.Duration](func(d *time.Duration, b []byte) error {
			v, err := time.ParseDuration(strings.TrimSpace(string(b)))
			if err != nil {
				badDuration = strings.TrimSpace(string(b))
				return fmt.Errorf("%q is not a duration (write e.g. 500ms, 30s, 5m)", badDuration)
			}
			*d = v
			return nil
		})
		if err := yaml.UnmarshalWithOptions(data, &cfg, yaml.Strict(), parseDuration); err != nil {
			if badDuration != "" {
				return nil, fmt.Errorf("config %s: %s: %v", path, keyWithValue(data, badDuration), err)
			}
			return nil, fmt.Errorf("config %s: %s", path, yaml.FormatError(err, false, false))
		}
	}
	envMap := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "ASSIST_") {
			envMap[k] = v
		}
	}
	if err := env.ParseWithOptions(&cfg, env.Options{Prefix: "ASSIST_", Environment: envMap}); err != nil {
		return nil, fmt.Errorf("config: environment: %w", err)
	}
	for i, u := range cfg.OllamaURLs {
		cfg.Hosts = append(cfg.Hosts, Host{Name: fmt.Sprintf("env-%d", i+1), URL: strings.TrimSpace(u)})
	}
	cfg.OllamaURLs = nil
	if cfg.Database.URL == "" && cfg.Database.URLFile != "" {
		b, err := os.ReadFile(cfg.Database.URLFile)
		if err != nil {
			return nil, fmt.Errorf("config: database.url_file: %w", err)
		}
		cfg.Database.URL = strings.TrimSpace(string(b))
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// keyWithValue names the line and key that holds value, for error
// messages about values the YAML decoder reports without a position.
func keyWithValue(data []byte, value string) string {
	for i, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.Trim(strings.TrimSpace(v), `"'`) == value {
			return fmt.Sprintf("line %d: %s", i+1, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(k), "- ")))
		}
	}
	return "a duration"
}

// Validate checks every key and names the first bad one.
func (c *Config) Validate() error {
	bad := func(key, msg string, args ...any) error {
		return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(msg, args...))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return bad("listen", "must be host:port, got %q", c.Listen)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return bad("tls", "cert_file and key_file must be set together")
	}
	if c.Database.URL == "" {
		return bad("database.url", "is required (or ASSIST_DATABASE_URL)")
	}
	if err := c.Clinic.Validate(); err != nil {
		return bad("clinic", "%s", assist.MessageOf(err))
	}
	if u, err := url.Parse(c.Database.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return bad("database.url", "must be a postgres:// URL")
	}
	if len(c.PoolHosts()) == 0 {
		return bad("hosts", "at least one Ollama host is required (or ASSIST_OLLAMA_URLS)")
	}
	for _, t := range c.Releases.Enforce {
		if !slices.Contains(suite.ReleaseTasks, t) {
			return bad("releases.enforce", "unknown task %q (want one of %v)", t, suite.ReleaseTasks)
		}
	}
	if c.Releases.CacheTTL < 0 {
		return bad("releases.cache_ttl", "must not be negative")
	}
	names := map[string]bool{}
	for i, h := range c.Hosts {
		key := fmt.Sprintf("hosts[%d]", i)
		u, err := url.Parse(h.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad(key+".url", "must be an http(s) URL, got %q", h.URL)
		}
		if h.MaxConcurrent < 0 {
			return bad(key+".max_concurrent", "must not be negative")
		}
		if h.RealtimeReserve < 0 || (h.RealtimeReserve > 0 && h.RealtimeReserve >= max(h.MaxConcurrent, 1)) {
			return bad(key+".realtime_reserve", "must be between 0 and max_concurrent-1 (other work needs a slot)")
		}
		if err := validateHostKind(key, h); err != nil {
			return err
		}
		name := h.Name
		if name == "" {
			name = h.URL
		}
		if names[name] {
			return bad(key+".name", "duplicate host %q", name)
		}
		names[name] = true
	}
	if c.Limits.MaxBodyBytes <= 0 {
		return bad("limits.max_body_bytes", "must be positive")
	}
	if c.Limits.MaxAnswerBytes <= 0 {
		return bad("limits.max_answer_bytes", "must be positive")
	}
	for key, d := range map[string]time.Duration{
		"limits.request_timeout": c.Limits.RequestTimeout, "limits.read_header_timeout": c.Limits.ReadHeaderTimeout,
		"limits.body_read_timeout": c.Limits.BodyReadTimeout, "auth.ollama_max_skew": c.Auth.OllamaMaxSkew,
		"limits.shutdown_timeout": c.Limits.ShutdownTimeout, "health.interval": c.Health.Interval,
		"health.probe_timeout": c.Health.ProbeTimeout, "health.breaker_cooldown": c.Health.BreakerCooldown,
		"queues.realtime.timeout": c.Queues.Realtime.Timeout, "queues.interactive.timeout": c.Queues.Interactive.Timeout,
		"queues.batch.timeout": c.Queues.Batch.Timeout, "health.work_probe_timeout": c.Health.WorkProbeTimeout,
		"queues.realtime.first_byte": c.Queues.Realtime.FirstByte, "queues.interactive.first_byte": c.Queues.Interactive.FirstByte,
		"queues.batch.first_byte": c.Queues.Batch.FirstByte,
	} {
		if d <= 0 {
			return bad(key, "must be a positive duration such as 5s")
		}
	}
	for key, n := range map[string]int{"queues.realtime.limit": c.Queues.Realtime.Limit,
		"queues.interactive.limit": c.Queues.Interactive.Limit, "queues.batch.limit": c.Queues.Batch.Limit} {
		if n <= 0 {
			return bad(key, "must be positive")
		}
	}
	switch c.Audit.ReviewScope {
	case "own", "organisation":
	default:
		return bad("audit.review_scope", "must be own or organisation, got %q", c.Audit.ReviewScope)
	}
	if _, err := c.PriorityPolicy(); err != nil {
		return err
	}
	if err := c.CDS.validate(); err != nil {
		return err
	}
	if err := c.Speech.validate(); err != nil {
		return err
	}
	for key, n := range map[string]int{"summary.num_ctx": c.Summary.NumCtx, "summary.num_predict": c.Summary.NumPredict,
		"summary.max_parallel": c.Summary.MaxParallel, "summary.max_turns": c.Summary.MaxTurns,
		"summary.max_turn_chars": c.Summary.MaxTurnChars, "summary.max_chars": c.Summary.MaxChars} {
		if n <= 0 {
			return bad(key, "must be positive")
		}
	}
	if c.Summary.NumPredict*2 > c.Summary.NumCtx {
		return bad("summary.num_predict", "must be at most half of summary.num_ctx (%d)", c.Summary.NumCtx)
	}
	if err := c.Interpret.validate(); err != nil {
		return err
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.AuditEnabled() {
		for _, k := range []struct{ key, inline, file string }{
			{"audit.hmac_key", c.Audit.HMACKey, c.Audit.HMACKeyFile},
			{"audit.checkpoint_key", c.Audit.CheckpointKey, c.Audit.CheckpointKeyFile},
		} {
			if k.inline == "" && k.file == "" {
				return bad(k.key, "is required when the audit log is enabled (set %s_file)", k.key)
			}
		}
	}
	return nil
}

// AuditEnabled reports whether the audit log is on (the default).
func (c *Config) AuditEnabled() bool { return c.Audit.Enabled == nil || *c.Audit.Enabled }

// Secret returns key material given inline or in a file, decoded from
// base64 or hex. key names the setting for error messages.
func Secret(key, inline, file string) ([]byte, error) {
	s := inline
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("config: %s_file: %w", key, err)
		}
		s = string(b)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if b, err := hex.DecodeString(s); err == nil {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return nil, fmt.Errorf("config: %s: must be hex or base64", key)
}
