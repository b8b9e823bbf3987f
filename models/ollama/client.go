package ollama

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/soteai/gateway/models"
)

// Wire types of the Ollama API, re-exported so the HTTP layer can decode
// requests without importing the ollama module itself.
type (
	ChatRequest      = api.ChatRequest
	ChatResponse     = api.ChatResponse
	GenerateRequest  = api.GenerateRequest
	GenerateResponse = api.GenerateResponse
	EmbedRequest     = api.EmbedRequest
	EmbedResponse    = api.EmbedResponse
	ShowRequest      = api.ShowRequest
	Message          = api.Message
	ListResponse     = api.ListResponse
	ListModel        = api.ListModelResponse
	ProcessResponse  = api.ProcessResponse
	ProcessModel     = api.ProcessModelResponse
)

// HTTPOptions tune the connections to hosts.
type HTTPOptions struct {
	DialTimeout           time.Duration // 0 means 3s
	ResponseHeaderTimeout time.Duration // 0 means 10 min (a host may be loading a model)
	MaxIdleConnsPerHost   int           // 0 means 128
}

// Client talks HTTP to Ollama hosts. It is safe for concurrent use.
type Client struct {
	http *http.Client
}

var (
	_ models.Transport  = (*Client)(nil)
	_ models.Prober     = (*Client)(nil)
	_ models.WorkProber = (*Client)(nil)
)

// NewClient builds a client with bounded dial and header timeouts.
func NewClient(o HTTPOptions) *Client {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 3 * time.Second
	}
	if o.ResponseHeaderTimeout <= 0 {
		o.ResponseHeaderTimeout = 10 * time.Minute
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 128
	}
	tr := &http.Transport{
		Proxy:                 nil, // hosts are on the county network; never via a proxy
		DialContext:           (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          o.MaxIdleConnsPerHost * 4,
		MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		DisableCompression:    true,
	}
	return &Client{http: &http.Client{Transport: tr}}
}

// Send posts body to baseURL+path.
func (c *Client) Send(ctx context.Context, baseURL, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/x-ndjson, application/json, text/event-stream")
	return c.http.Do(req)
}

func (c *Client) api(baseURL string) (*api.Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, err
	}
	return api.NewClient(u, c.http), nil
}

// Probe asks a host for /api/version, /api/tags and /api/ps.
func (c *Client) Probe(ctx context.Context, baseURL string) (models.Probe, error) {
	cl, err := c.api(baseURL)
	if err != nil {
		return models.Probe{}, err
	}
	v, err := cl.Version(ctx)
	if err != nil {
		return models.Probe{}, err
	}
	tags, err := cl.List(ctx)
	if err != nil {
		return models.Probe{}, err
	}
	pr := models.Probe{Version: v}
	for _, m := range tags.Models {
		pr.Models = append(pr.Models, models.ModelInfo{Name: models.NormaliseModel(m.Name), Digest: m.Digest})
	}
	ps, err := cl.ListRunning(ctx)
	if err != nil {
		return models.Probe{}, err
	}
	for _, m := range ps.Models {
		pr.Loaded = append(pr.Loaded, models.NormaliseModel(m.Name))
	}
	return pr, nil
}

// API returns the typed Ollama client for one host, for model-independent
// calls (show, tags, ps, version).
func (c *Client) API(baseURL string) (*api.Client, error) { return c.api(baseURL) }

// ProbeWork asks a host for the smallest real piece of work on model: one
// generated token (num_predict 1), or one embedding when embed is set.
// Health endpoints answer even when a host's runner hangs; this does not.
func (c *Client) ProbeWork(ctx context.Context, baseURL, model string, embed bool) error {
	cl, err := c.api(baseURL)
	if err != nil {
		return err
	}
	if embed {
		_, err = cl.Embed(ctx, &api.EmbedRequest{Model: model, Input: "ping"})
		return err
	}
	stream := false
	return cl.Generate(ctx, &api.GenerateRequest{
		Model: model, Prompt: "ping", Stream: &stream,
		Options: map[string]any{"num_predict": 1},
	}, func(api.GenerateResponse) error { return nil })
}
