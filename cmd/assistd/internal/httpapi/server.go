package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist/auth"
	"github.com/soteai/gateway/assist/interpret"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/assist/relay"
	"github.com/soteai/gateway/cmd/assistd/internal/metrics"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/models/ollama"
)

// Deps are the domain services the handlers use.
type Deps struct {
	Pool     *models.Pool
	Ollama   *ollama.Client
	Relay    *relay.Relay
	Verifier *auth.Verifier
	// Priority is the scheduling-class ceiling per role and credential.
	Priority auth.PriorityPolicy
	Metrics  *metrics.Metrics
	Log      *slog.Logger
	// Ready reports whether the gateway can serve (database reachable).
	Ready func(ctx context.Context) error
	// Migrations names the database's pending migrations ("" when the
	// schema is current), for /readyz.
	Migrations func(ctx context.Context) string
	// Version is the gateway's build: version, commit, date, Go version.
	Version string
	// Retrieval serves /v1/retrieval; nil leaves those routes out.
	Retrieval Retrieval
	// Rec records every AI output and every call of the task endpoints
	// (retrieval, medication risk) before it is released: the one audited
	// call. With auditing disabled by configuration it records nothing.
	Rec *record.Recorder
	// Risk serves /v1/risk and /cds-services (risk.go); nil leaves those
	// routes out.
	Risk *RiskDeps
	// CDS authenticates CDS Hooks clients on /cds-services (risk.go); nil
	// leaves those routes on the gateway's own bearer tokens.
	CDS *CDSAuth
	// Audit serves /v1/audit (audit.go); nil (auditing disabled) leaves
	// those routes out.
	Audit AuditLog
	// Clinic serves /v1/clinic (clinic.go); nil leaves those routes out.
	Clinic Clinic
	// ReviewScope is which outputs clinicians may review ("" means own).
	ReviewScope ReviewScope
	// Speech serves /v1/audio (speech.go); nil leaves those routes out.
	Speech *SpeechDeps
	// Releases serves /v1/evals and /v1/releases (releases.go); nil
	// leaves those routes out.
	Releases *ReleaseDeps
	// Summary serves /v1/summaries (summary.go); nil leaves those routes out.
	Summary *SummaryDeps
	// SummaryCheck serves POST /v1/summaries/check (summarycheck.go); nil
	// leaves it out.
	SummaryCheck *SummaryCheckDeps
	// Interpret serves /v1/interpret/sessions (interpret.go); nil leaves
	// the route out.
	Interpret *interpret.Service
}

// Options are the HTTP server's limits.
type Options struct {
	MaxBodyBytes   int64
	RequestTimeout time.Duration
	// OllamaKeysOverHTTP accepts Ollama key signatures over plain HTTP
	// from non-loopback clients (otherwise HTTPS or loopback only).
	OllamaKeysOverHTTP bool
	// BodyReadTimeout bounds reading a request body (a slow or stalled
	// upload); 0 leaves it unbounded.
	BodyReadTimeout   time.Duration
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
}

// New builds the echo instance with every route registered.
func New(d Deps, o Options) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(d.Log)
	registerRoutes(e, d, o)
	return e
}

// Server is the gateway's HTTP server.
type Server struct {
	http *http.Server
	ln   net.Listener
	tls  bool
}

// Listen binds addr and prepares the server; TLS is served when certFile
// and keyFile are set. Connection-level errors (TLS handshakes, malformed
// requests) go to log at warn level.
func Listen(addr string, h http.Handler, o Options, certFile, keyFile string, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, http: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		IdleTimeout:       o.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.tls = true
	}
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// TLS reports whether the server speaks HTTPS.
func (s *Server) TLS() bool { return s.tls }

// Serve serves until Shutdown; it returns nil after a graceful shutdown.
func (s *Server) Serve() error {
	var err error
	if s.tls {
		err = s.http.ServeTLS(s.ln, "", "")
	} else {
		err = s.http.Serve(s.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for running ones (streams
// included) until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }
