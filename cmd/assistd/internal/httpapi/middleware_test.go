package httpapi

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist/auth"
)

func TestSafeRequestID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		safe bool
	}{
		{"3f2a9c1e-7b4d-4c8e-9a1f-2b3c4d5e6f70", true}, // UUID
		{"0123456789abcdef", true},
		{"req_01HZX3T9Q.trace-7", true},
		{"131052-308T", false},                  // a valid identity code
		{"abc131052-308Txyz", false},            // embedded
		{"131052A308X", false},                  // a 2000s century sign, any check character
		{"010101-123N-request", false},          // invalid checksum: still the shape of one
		{"matti.meikalainen@example.fi", false}, // not the alphabet
		{"short", false},
		{"", false},
		{"has space in it", false},
		{string(make([]byte, 65)), false},
	} {
		if got := safeRequestID(tc.id); got != tc.safe {
			t.Errorf("safeRequestID(%q) = %v, want %v", tc.id, got, tc.safe)
		}
	}
}

// Over plain HTTP, Ollama key signatures are refused from other machines
// (they cover no body and replay within their window) unless configured;
// bearer tokens and loopback or TLS clients reach the verifier.
func TestOllamaKeysOverPlainHTTP(t *testing.T) {
	for _, tc := range []struct {
		name         string
		remote       string
		tls          bool
		keysOverHTTP bool
		refused      bool
	}{
		{"other machine, plain HTTP", "10.20.0.5:40000", false, false, true},
		{"other machine, IPv6, plain HTTP", "[2001:db8::5]:40000", false, false, true},
		{"other machine, TLS", "10.20.0.5:40000", true, false, false},
		{"loopback, plain HTTP (a local TLS proxy)", "127.0.0.1:40000", false, false, false},
		{"other machine, plain HTTP allowed by configuration", "10.20.0.5:40000", false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := echo.New()
			e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
			v := auth.NewVerifier(nil, 0, 30*time.Second, nil)
			e.GET("/api/tags", func(c echo.Context) error { return c.NoContent(200) }, authenticate(v, tc.keysOverHTTP))
			req := httptest.NewRequest(http.MethodGet, "/api/tags?ts=1", nil)
			req.RemoteAddr = tc.remote
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			// A malformed signature: the verifier refuses it with its own message.
			req.Header.Set("Authorization", "AAAA:BBBB")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			refusedForHTTP := strings.Contains(rec.Body.String(), "only over HTTPS")
			if rec.Code != http.StatusUnauthorized || refusedForHTTP != tc.refused {
				t.Fatalf("%d %s; want 401, refused for plain HTTP = %v", rec.Code, rec.Body, tc.refused)
			}
		})
	}
}
