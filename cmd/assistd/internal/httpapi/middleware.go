package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/auth"
	"github.com/soteai/gateway/cmd/assistd/internal/metrics"
)

const actorKey = "assist.actor"

// requestID sets X-Request-ID. A client's id is logged and audited, so it
// is kept only when it is safe (safeRequestID); otherwise one is generated.
func requestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := c.Request().Header.Get(echo.HeaderXRequestID)
			if !safeRequestID(id) {
				b := make([]byte, 8)
				_, _ = rand.Read(b)
				id = hex.EncodeToString(b)
			}
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			c.SetRequest(c.Request().WithContext(assist.WithRequestID(c.Request().Context(), id)))
			return next(c)
		}
	}
}

// safeRequestID accepts 8 to 64 characters of letters, digits, '-', '_'
// and '.', with no personal identity code shape in them (six digits, a
// century sign, three digits and a check character, valid or not): enough
// for UUIDs, hex ids and trace ids, never a name, an e-mail address or a
// patient's code.
func safeRequestID(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return !hetuShape.MatchString(id)
}

// hetuShape is a personal identity code's shape, valid checksum or not.
var hetuShape = regexp.MustCompile(`[0-9]{6}[-+A-FU-Ya-fu-y][0-9]{3}[0-9A-Za-z]`)

// observe logs every request (ids and numbers only, never bodies) and
// records metrics.
func observe(log *slog.Logger, m *metrics.Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			if err != nil && !c.Response().Committed {
				status = Status(assist.KindOf(err))
			}
			d := time.Since(start)
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			if m != nil {
				m.Request(route, c.Request().Method, status, d)
			}
			attrs := []any{"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"method", c.Request().Method, "route", route, "status", status,
				"duration_ms", float64(d.Microseconds()) / 1000}
			if a, ok := c.Get(actorKey).(assist.Actor); ok {
				attrs = append(attrs, "actor", a.TokenID, "role", string(a.Role))
			}
			log.Info("request", attrs...)
			return nil
		}
	}
}

// authenticate verifies a bearer token or an Ollama key signature and
// stores the actor. It does not decide access: allow does. Ollama key
// signatures cover no body and can be replayed within their window, so
// over plain HTTP they are accepted only from loopback unless keysOverHTTP.
func authenticate(v *auth.Verifier, keysOverHTTP bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get("Authorization")
			if h == "" {
				return assist.E(assist.KindUnauthorized, "httpapi.authenticate",
					"authentication is required: send a bearer token, or set OLLAMA_AUTH=1 with a registered Ollama key")
			}
			var a assist.Actor
			var err error
			if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
				a, err = v.Bearer(c.Request().Context(), strings.TrimSpace(tok))
			} else {
				r := c.Request()
				if r.TLS == nil && !keysOverHTTP && !loopback(r.RemoteAddr) {
					return assist.E(assist.KindUnauthorized, "httpapi.authenticate",
						"Ollama key signatures are accepted only over HTTPS (a captured one could be replayed); use https:// or a bearer token")
				}
				a, err = v.Ollama(r.Context(), r.Method, r.URL.Path, r.URL.Query().Get("ts"), h)
			}
			if err != nil {
				return err
			}
			c.Set(actorKey, a)
			c.SetRequest(c.Request().WithContext(assist.WithActor(c.Request().Context(), a)))
			return next(c)
		}
	}
}

// loopback reports whether a remote address is on this machine.
func loopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// allow admits only the given roles. Every authenticated route uses it.
func allow(roles ...assist.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a, ok := c.Get(actorKey).(assist.Actor)
			if !ok {
				return assist.E(assist.KindUnauthorized, "httpapi.allow", "authentication is required")
			}
			if !slices.Contains(roles, a.Role) {
				return assist.E(assist.KindForbidden, "httpapi.allow", "the role '"+string(a.Role)+"' may not use this endpoint")
			}
			return next(c)
		}
	}
}

// actorOf returns the authenticated actor of a request.
func actorOf(c echo.Context) assist.Actor {
	a, _ := c.Get(actorKey).(assist.Actor)
	return a
}

// bodyReadDeadline gives a request's body d to arrive: the connection's
// read deadline is set when the request starts and cleared once the body
// has been read (readBody), so a stalled upload ends with a clear error
// instead of holding a handler, while long streamed answers are not cut.
func bodyReadDeadline(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.Body == nil || r.Body == http.NoBody {
				return next(c)
			}
			rc := http.NewResponseController(c.Response().Writer)
			if rc.SetReadDeadline(time.Now().Add(d)) == nil {
				c.Set(bodyDeadlineKey, d)
			}
			return next(c)
		}
	}
}

const bodyDeadlineKey = "assist.bodyDeadline"

// readBody reads the request body up to limit bytes, within the body read
// deadline.
func readBody(c echo.Context, limit int64) ([]byte, error) {
	r := http.MaxBytesReader(c.Response(), c.Request().Body, limit)
	b, err := io.ReadAll(r)
	if d, ok := c.Get(bodyDeadlineKey).(time.Duration); ok {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The rest of the body will not be waited for: close the
			// connection after the answer (the deadline stays passed).
			c.Response().Header().Set(echo.HeaderConnection, "close")
			c.Set(bodyDeadlineKey, nil)
			return nil, assist.Errorf(assist.KindTimeout, "the request body did not arrive within %s", d)
		}
		_ = http.NewResponseController(c.Response().Writer).SetReadDeadline(time.Time{})
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, assist.Errorf(assist.KindTooLarge, "the request body is larger than the limit of %d bytes", limit)
		}
		return nil, assist.E(assist.KindInvalid, "httpapi.readBody", "the request body could not be read", err)
	}
	return b, nil
}

// decodeJSON reads and decodes a JSON body into v with a clear message.
func decodeJSON(c echo.Context, limit int64, v any) ([]byte, error) {
	b, err := readBody(c, limit)
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, assist.Errorf(assist.KindInvalid, "the request body is empty; a JSON object is required")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, jsonError(err)
	}
	return b, nil
}

// jsonError describes a JSON decoding error without echoing the input.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return assist.Errorf(assist.KindInvalid, "the request body is not valid JSON (syntax error at byte %d)", se.Offset)
	case errors.As(err, &te):
		return assist.Errorf(assist.KindInvalid, "the field %q must be of type %s", te.Field, te.Type.String())
	}
	return assist.Errorf(assist.KindInvalid, "the request body is not valid JSON")
}
