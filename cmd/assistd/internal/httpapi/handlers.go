package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/auth"
	"github.com/soteai/gateway/assist/relay"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/models/ollama"
	"github.com/soteai/gateway/models/releases"
)

func requestTimeout(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

func healthz() echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	}
}

func readyz(d Deps) echo.HandlerFunc {
	return func(c echo.Context) error {
		checks := map[string]string{"database": "ok", "hosts": "ok", "migrations": "ok"}
		ok := true
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if d.Ready != nil {
			if err := d.Ready(ctx); err != nil {
				checks["database"], ok = "unavailable", false
			}
		}
		if d.Migrations != nil {
			if msg := d.Migrations(ctx); msg != "" {
				checks["migrations"], ok = msg, false
			}
		}
		if !d.Pool.Ready() {
			checks["hosts"], ok = "no host is up", false
		}
		status := http.StatusOK
		if !ok {
			status = http.StatusServiceUnavailable
		}
		return c.JSON(status, map[string]any{"ready": ok, "checks": checks, "version": d.Version})
	}
}

func whoami() echo.HandlerFunc {
	return func(c echo.Context) error {
		a := actorOf(c)
		return c.JSON(http.StatusOK, map[string]any{"id": a.TokenID, "name": a.Name, "role": a.Role, "organisation": a.Organisation})
	}
}

func adminHosts(d Deps) echo.HandlerFunc {
	return func(c echo.Context) error {
		s := d.Pool.Stats()
		q := map[string]int{}
		for i, n := range s.QueueDepth {
			q[assist.Priority(i).String()] = n
		}
		out := map[string]any{"hosts": s.Hosts, "queue_depth": q}
		if d.Speech != nil && d.Speech.Hosts != nil {
			// Speech recognition hosts: a pool of their own.
			out["transcription_hosts"] = d.Speech.Hosts().Hosts
		}
		if d.Releases != nil && d.Releases.Mismatches != nil {
			// Hosts serving another digest under an approved release's
			// name: they are not used for that task.
			out["release_mismatches"] = append([]releases.Mismatch{}, d.Releases.Mismatches()...)
		}
		return c.JSON(http.StatusOK, out)
	}
}

// ollamaRoot answers the Ollama CLI's heartbeat.
func ollamaRoot() echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodHead {
			return c.NoContent(http.StatusOK)
		}
		return c.String(http.StatusOK, "Ollama is running")
	}
}

func ollamaVersion(d Deps) echo.HandlerFunc {
	return func(c echo.Context) error {
		h, err := d.Pool.AnyHost()
		if err != nil {
			return err
		}
		cl, err := d.Ollama.API(h.URL)
		if err != nil {
			return assist.E("httpapi.version", err)
		}
		v, err := cl.Version(c.Request().Context())
		if err != nil {
			return assist.E(assist.KindUpstream, "httpapi.version", "the model host did not answer", err)
		}
		// "version" stays Ollama's, which the stock clients read; the
		// gateway's own build is beside it.
		return c.JSON(http.StatusOK, map[string]string{"version": v, "gateway": d.Version})
	}
}

// upHosts returns the healthy hosts.
func upHosts(p *models.Pool) []models.HostStatus {
	var out []models.HostStatus
	for _, h := range p.Stats().Hosts {
		if h.Up {
			out = append(out, h)
		}
	}
	return out
}

// fanOut calls f on every healthy host concurrently and returns the
// successful results in host order.
func fanOut[T any](ctx context.Context, d Deps, f func(ctx context.Context, baseURL string) (T, error)) ([]T, error) {
	hosts := upHosts(d.Pool)
	if len(hosts) == 0 {
		return nil, assist.E(assist.KindUnavailable, "httpapi.fanOut", "no model host is up", 5)
	}
	res := make([]T, len(hosts))
	oks := make([]bool, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := f(ctx, h.URL); err == nil {
				res[i], oks[i] = v, true
			}
		}()
	}
	wg.Wait()
	var out []T
	for i := range res {
		if oks[i] {
			out = append(out, res[i])
		}
	}
	if len(out) == 0 {
		return nil, assist.E(assist.KindUpstream, "httpapi.fanOut", "no model host answered", 2)
	}
	return out, nil
}

func ollamaTags(d Deps) echo.HandlerFunc {
	return func(c echo.Context) error {
		lists, err := fanOut(c.Request().Context(), d, func(ctx context.Context, u string) (*ollama.ListResponse, error) {
			cl, err := d.Ollama.API(u)
			if err != nil {
				return nil, err
			}
			return cl.List(ctx)
		})
		if err != nil {
			return err
		}
		merged := ollama.ListResponse{Models: []ollama.ListModel{}}
		seen := map[string]bool{}
		for _, l := range lists {
			for _, m := range l.Models {
				if !seen[m.Name] {
					seen[m.Name] = true
					merged.Models = append(merged.Models, m)
				}
			}
		}
		slices.SortFunc(merged.Models, func(a, b ollama.ListModel) int { return strings.Compare(a.Name, b.Name) })
		return c.JSON(http.StatusOK, merged)
	}
}

func ollamaPS(d Deps) echo.HandlerFunc {
	return func(c echo.Context) error {
		lists, err := fanOut(c.Request().Context(), d, func(ctx context.Context, u string) (*ollama.ProcessResponse, error) {
			cl, err := d.Ollama.API(u)
			if err != nil {
				return nil, err
			}
			return cl.ListRunning(ctx)
		})
		if err != nil {
			return err
		}
		merged := ollama.ProcessResponse{Models: []ollama.ProcessModel{}}
		for _, l := range lists {
			merged.Models = append(merged.Models, l.Models...)
		}
		return c.JSON(http.StatusOK, merged)
	}
}

// openaiModel is a model in the OpenAI API's shape.
type openaiModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// openaiModelRetrieve answers GET /v1/models/{model} (the SDKs' retrieve
// call): the model if a healthy host serves it, else 404. Names may hold
// slashes ("namespace/model:tag"); the tag defaults to latest as in Ollama.
func openaiModelRetrieve(d Deps) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw, err := url.PathUnescape(c.Param("*"))
		if err != nil || strings.TrimSpace(raw) == "" {
			return assist.Errorf(assist.KindInvalid, "the path must name a model: /v1/models/{model}")
		}
		want := models.NormaliseModel(raw)
		for _, m := range d.Pool.Models() {
			if m.Name == want {
				return c.JSON(http.StatusOK, openaiModel{ID: m.Name, Object: "model", OwnedBy: "county"})
			}
		}
		return assist.E(assist.KindNotFound, "httpapi.openaiModelRetrieve", "model '"+want+"' not found")
	}
}

func openaiModels(d Deps) echo.HandlerFunc {
	return func(c echo.Context) error {
		data := []openaiModel{}
		for _, m := range d.Pool.Models() {
			data = append(data, openaiModel{ID: m.Name, Object: "model", OwnedBy: "county"})
		}
		return c.JSON(http.StatusOK, map[string]any{"object": "list", "data": data})
	}
}

type apiKind int

const (
	apiOllama apiKind = iota
	apiOpenAI
)

// relayCall forwards a model call of the Ollama or OpenAI API through the
// pool, audited unless task is empty.
func relayCall(d Deps, limit int64, api apiKind, upstreamPath string, task assist.Task) echo.HandlerFunc {
	sh := shapeOllama
	if api == apiOpenAI {
		sh = shapeOpenAI
	}
	defaultStream := api == apiOllama && (upstreamPath == "/api/chat" || upstreamPath == "/api/generate")
	return func(c echo.Context) error {
		var req struct {
			Model  string `json:"model"`
			Name   string `json:"name"`
			Stream *bool  `json:"stream"`
		}
		body, err := decodeJSON(c, limit, &req)
		if err != nil {
			return err
		}
		if req.Model == "" {
			req.Model = req.Name
		}
		if strings.TrimSpace(req.Model) == "" {
			return assist.Errorf(assist.KindInvalid, "the field \"model\" is required")
		}
		prio, attrs, err := priorityOf(c, d.Priority)
		if err != nil {
			return err
		}
		stream := defaultStream
		if req.Stream != nil {
			stream = *req.Stream
		}
		call := relay.Call{
			Call:        models.Call{Model: req.Model, Priority: prio, Path: upstreamPath, Body: body},
			Route:       c.Path(),
			Stream:      stream,
			RequestID:   c.Response().Header().Get(echo.HeaderXRequestID),
			Actor:       actorOf(c),
			Task:        task,
			PatientRef:  c.Request().Header.Get("X-Sote-Patient"),
			NoAudit:     task == "",
			StreamError: streamError(sh),
			Attrs:       attrs,
		}
		res, err := d.Relay.Do(c.Request().Context(), call, c.Response())
		if err != nil && c.Response().Committed {
			d.Log.Warn("stream ended with error", "request_id", call.RequestID, "host", res.Host,
				"kind", string(assist.KindOf(err)), "audit_seq", res.Seq)
			return nil
		}
		return err
	}
}

// priorityOf is the scheduling class of a request: the X-Sote-Priority
// header within the caller's ceiling. The class used is sent back in the
// same header and recorded (with the requested one, when lowered).
func priorityOf(c echo.Context, policy auth.PriorityPolicy) (assist.Priority, map[string]string, error) {
	asked, err := assist.ParsePriority(c.Request().Header.Get("X-Sote-Priority"))
	if err != nil {
		return 0, nil, err
	}
	prio, err := policy.Decide(actorOf(c), asked)
	if err != nil {
		return 0, nil, err
	}
	attrs := map[string]string{"priority": prio.String()}
	if prio != asked {
		attrs["priority_requested"] = asked.String()
	}
	c.Response().Header().Set("X-Sote-Priority", prio.String())
	return prio, attrs, nil
}

// modelManagement refuses pulling, pushing, creating, copying and deleting
// models through the gateway: which model releases serve patients is the
// county's decision, made on the hosts.
func modelManagement() echo.HandlerFunc {
	return func(c echo.Context) error {
		return assist.E(assist.KindForbidden, "httpapi.modelManagement",
			"models are installed and removed by the county's operators on the model hosts, not through the gateway")
	}
}
