package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/pgdb"
)

// shape is the error body format of an API family.
type shape int

const (
	shapeNative shape = iota // {"error": {"kind", "message", "request_id"}}
	shapeOllama              // {"error": "message", "kind": "..."}
	shapeOpenAI              // {"error": {"message", "type", "code"}}
)

func shapeOf(path string) shape {
	switch {
	case strings.HasPrefix(path, "/api/"), path == "/":
		return shapeOllama
	case strings.HasPrefix(path, "/v1/chat/"), strings.HasPrefix(path, "/v1/embeddings"),
		strings.HasPrefix(path, "/v1/models"), strings.HasPrefix(path, "/v1/completions"),
		strings.HasPrefix(path, "/v1/audio/"):
		return shapeOpenAI
	}
	return shapeNative
}

// Status maps an error kind to its HTTP status.
func Status(k assist.Kind) int {
	switch k {
	case assist.KindInvalid:
		return http.StatusBadRequest
	case assist.KindUnauthorized:
		return http.StatusUnauthorized
	case assist.KindForbidden:
		return http.StatusForbidden
	case assist.KindNotFound:
		return http.StatusNotFound
	case assist.KindConflict:
		return http.StatusConflict
	case assist.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case assist.KindBusy:
		return http.StatusTooManyRequests
	case assist.KindUnavailable:
		return http.StatusServiceUnavailable
	case assist.KindUpstream:
		return http.StatusBadGateway
	case assist.KindTimeout:
		return http.StatusGatewayTimeout
	case assist.KindCanceled:
		return 499
	}
	return http.StatusInternalServerError
}

// kindOfStatus maps echo's own errors (unknown route, bad method) to kinds.
func kindOfStatus(code int) assist.Kind {
	switch code {
	case http.StatusBadRequest:
		return assist.KindInvalid
	case http.StatusUnauthorized:
		return assist.KindUnauthorized
	case http.StatusForbidden:
		return assist.KindForbidden
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return assist.KindNotFound
	case http.StatusRequestEntityTooLarge:
		return assist.KindTooLarge
	case http.StatusServiceUnavailable:
		return assist.KindUnavailable
	}
	return assist.KindInternal
}

// errorHandler is the one place errors become HTTP responses. Internal
// causes are logged (they may contain patient text from a database or
// model error, so only at debug level with the cause) and never rendered.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		kind := assist.KindOf(err)
		msg := assist.MessageOf(err)
		var he *echo.HTTPError
		if errors.As(err, &he) {
			kind = kindOfStatus(he.Code)
			msg = assist.DefaultMessage(kind)
			if he.Code == http.StatusMethodNotAllowed {
				msg = "this method is not allowed here"
			} else if he.Code == http.StatusNotFound {
				msg = "no such endpoint"
			}
		}
		reqID := c.Response().Header().Get(echo.HeaderXRequestID)
		if kind == assist.KindInternal {
			msg = assist.DefaultMessage(kind)
			log.Error("request failed", "request_id", reqID, "route", c.Path(), "kind", string(kind), "err", logSafe(err))
		} else if kind != assist.KindCanceled {
			log.Info("request refused", "request_id", reqID, "route", c.Path(), "kind", string(kind), "op", opOf(err))
		}
		if c.Response().Committed {
			return
		}
		if ra := assist.RetryAfterOf(err); ra > 0 && (kind == assist.KindBusy || kind == assist.KindUnavailable || kind == assist.KindUpstream) {
			c.Response().Header().Set("Retry-After", strconv.Itoa(ra))
		} else if kind == assist.KindBusy || kind == assist.KindUnavailable {
			c.Response().Header().Set("Retry-After", "1")
		}
		if kind == assist.KindUnauthorized {
			if strings.HasPrefix(c.Request().URL.Path, "/cds-services") {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="cds-services", error="invalid_token"`)
			} else {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="assist"`)
			}
		}
		status := Status(kind)
		var body any
		switch shapeOf(c.Request().URL.Path) {
		case shapeOllama:
			body = map[string]any{"error": msg, "kind": kind}
		case shapeOpenAI:
			body = map[string]any{"error": map[string]any{"message": msg, "type": kind, "code": kind, "param": nil}}
		default:
			body = map[string]any{"error": map[string]any{"kind": kind, "message": msg, "request_id": reqID}}
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

// logSafe renders an internal error for the log: database errors as their
// code only (their text can quote row values) and any personal identity
// code masked, so a cause that carries patient text stays out of the logs.
func logSafe(err error) string {
	return audit.RedactHETU(pgdb.LogSafe(err).Error(), func(string) string { return "[identity code]" })
}

func opOf(err error) string {
	var e *assist.Error
	if errors.As(err, &e) {
		return e.Op
	}
	return ""
}

// streamError renders an in-band error once a stream has started.
func streamError(s shape) func(kind assist.Kind, msg string) []byte {
	return func(kind assist.Kind, msg string) []byte {
		b, _ := json.Marshal(map[string]any{"error": msg, "kind": kind})
		if s == shapeOpenAI {
			b, _ = json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": kind, "code": kind}})
			return append(append([]byte("data: "), b...), '\n', '\n')
		}
		return append(b, '\n')
	}
}
