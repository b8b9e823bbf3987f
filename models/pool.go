package models

import (
	"container/list"
	"context"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/soteai/gateway/assist"
)

// HostConfig describes one Ollama host.
type HostConfig struct {
	Name          string
	URL           string
	Labels        []string // e.g. "gpu", "cpu", "site=oulu"
	MaxConcurrent int      // requests in flight at once; 0 means 4
	// RealtimeReserve is how many of those slots only realtime work may
	// take (live interpretation), so a host busy with batch or interactive
	// work still answers a realtime request at once; at most
	// MaxConcurrent-1.
	RealtimeReserve int
}

// limit is how many requests of class prio the host takes at once.
func (h HostConfig) limit(prio assist.Priority) int {
	if prio == assist.PriorityRealtime {
		return h.MaxConcurrent
	}
	return h.MaxConcurrent - h.RealtimeReserve
}

// GPU reports whether the host is labelled "gpu".
func (h HostConfig) GPU() bool { return slices.Contains(h.Labels, "gpu") }

// Options tune the pool. Zero values take the defaults in DefaultOptions.
type Options struct {
	QueueLimit       [assist.NumPriorities]int           // waiting requests per class
	QueueTimeout     [assist.NumPriorities]time.Duration // longest wait per class
	HealthInterval   time.Duration                       // between health checks
	ProbeTimeout     time.Duration                       // one health check
	BreakerThreshold int                                 // consecutive failures that open the breaker
	BreakerCooldown  time.Duration                       // how long an open breaker keeps a host out
	MaxAttempts      int                                 // hosts tried for one request (failover)
	// FirstByte is how long a host may take to send the first bytes of
	// its answer, per class. A host that misses it counts a failure, the
	// request moves to another host, and the host gets no work until a
	// one-token generation (WorkProber) succeeds on it.
	FirstByte        [assist.NumPriorities]time.Duration
	WorkProbeTimeout time.Duration // one such generation
}

// DefaultOptions are sane settings for a county installation.
func DefaultOptions() Options {
	return Options{
		QueueLimit:       [assist.NumPriorities]int{64, 256, 1024},
		QueueTimeout:     [assist.NumPriorities]time.Duration{2 * time.Second, 30 * time.Second, 5 * time.Minute},
		HealthInterval:   5 * time.Second,
		ProbeTimeout:     3 * time.Second,
		BreakerThreshold: 3,
		BreakerCooldown:  15 * time.Second,
		MaxAttempts:      3,
		FirstByte:        [assist.NumPriorities]time.Duration{10 * time.Second, time.Minute, 10 * time.Minute},
		WorkProbeTimeout: 30 * time.Second,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	for i := range o.QueueLimit {
		if o.QueueLimit[i] <= 0 {
			o.QueueLimit[i] = d.QueueLimit[i]
		}
		if o.QueueTimeout[i] <= 0 {
			o.QueueTimeout[i] = d.QueueTimeout[i]
		}
		if o.FirstByte[i] <= 0 {
			o.FirstByte[i] = d.FirstByte[i]
		}
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = d.HealthInterval
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = d.ProbeTimeout
	}
	if o.BreakerThreshold <= 0 {
		o.BreakerThreshold = d.BreakerThreshold
	}
	if o.BreakerCooldown <= 0 {
		o.BreakerCooldown = d.BreakerCooldown
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = d.MaxAttempts
	}
	if o.WorkProbeTimeout <= 0 {
		o.WorkProbeTimeout = d.WorkProbeTimeout
	}
	return o
}

// ModelInfo is what a host reports about one of its models.
type ModelInfo struct {
	Name   string // normalised, always with a tag ("tiny:latest")
	Digest string
}

// Probe is the result of one health check of a host.
type Probe struct {
	Version string
	Models  []ModelInfo
	Loaded  []string // models loaded in memory (from /api/ps)
}

// Prober checks a host's health. Implemented by models/ollama.
type Prober interface {
	Probe(ctx context.Context, baseURL string) (Probe, error)
}

// WorkProber runs the smallest real piece of work on a host: a one-token
// generation (or one embedding when embed is set) of model. A host that
// answers health checks can still hang on work; this tells the two apart.
// Implemented by models/ollama. Without one, a suspect host returns to
// service at its next successful health check.
type WorkProber interface {
	ProbeWork(ctx context.Context, baseURL, model string, embed bool) error
}

type host struct {
	cfg      HostConfig
	up       bool
	everUp   bool // has answered a health check at least once
	version  string
	models   map[string]ModelInfo
	loaded   []string
	inflight int
	fails    int       // consecutive request failures
	openTill time.Time // circuit breaker open until
	lastErr  string
	served   uint64
	missed   uint64 // first-byte deadlines missed
	// suspect is set when the host missed a first-byte deadline: it
	// gets no work until a work probe of suspectModel succeeds.
	suspect      bool
	suspectModel string
	suspectEmbed bool
	probing      bool
}

type waiter struct {
	model   string
	prio    assist.Priority
	exclude []string
	ch      chan grant // receives exactly one grant, or is closed at shutdown
	elem    *list.Element
	since   time.Time
}

// grant is a waiter's outcome: a host whose slot is already counted, or
// the error that ends its wait.
type grant struct {
	h   *host
	err error
}

// Pool schedules requests onto hosts. Its methods are safe for concurrent use.
type Pool struct {
	opts   Options
	prober Prober
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	hosts   []*host
	queues  [assist.NumPriorities]*list.List
	counts  counters
	rr      int
	stopped bool
	closeCh chan struct{}
	wg      sync.WaitGroup
	// waits, when set, receives every request's wait for a host slot
	// (zero for those served at once), for the queue-wait histogram.
	waits func(assist.Priority, time.Duration)
	// active counts leases in flight per class; lastDone is when the
	// last lease of each class was released (Activity).
	active   [assist.NumPriorities]int
	lastDone [assist.NumPriorities]time.Time
}

// ObserveWaits sets f to receive each request's wait for a host slot
// (zero when one was free). Call it before the pool serves; f must be fast:
// it runs under the pool's lock.
func (p *Pool) ObserveWaits(f func(prio assist.Priority, wait time.Duration)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waits = f
}

// NewPool builds a pool over hosts. Call Start to run health checks.
func NewPool(hosts []HostConfig, prober Prober, opts Options, log *slog.Logger) *Pool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pool{opts: opts.withDefaults(), prober: prober, log: log, now: time.Now, closeCh: make(chan struct{})}
	for _, hc := range hosts {
		p.hosts = append(p.hosts, &host{cfg: normaliseHost(hc), models: map[string]ModelInfo{}})
	}
	for i := range p.queues {
		p.queues[i] = list.New()
	}
	return p
}

// SetHosts replaces the host list, e.g. after the configuration was
// reloaded. A host that keeps its name keeps its state (health, models,
// requests in flight) and takes the new URL, labels and limit; requests
// running on a removed host finish there. New hosts are unknown until the
// next health check (call CheckNow).
func (p *Pool) SetHosts(hosts []HostConfig) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := make(map[string]*host, len(p.hosts))
	for _, h := range p.hosts {
		old[h.cfg.Name] = h
	}
	next := make([]*host, 0, len(hosts))
	for _, hc := range hosts {
		hc = normaliseHost(hc)
		if h, ok := old[hc.Name]; ok && h.cfg.URL == hc.URL {
			h.cfg = hc
			next = append(next, h)
			continue
		}
		next = append(next, &host{cfg: hc, models: map[string]ModelInfo{}})
	}
	p.hosts = next
	p.failUnservable()
	p.dispatch()
}

func normaliseHost(hc HostConfig) HostConfig {
	if hc.MaxConcurrent <= 0 {
		hc.MaxConcurrent = 4
	}
	if hc.Name == "" {
		hc.Name = hc.URL
	}
	hc.RealtimeReserve = max(0, min(hc.RealtimeReserve, hc.MaxConcurrent-1))
	return hc
}

// Start probes every host once, synchronously, then keeps probing in the
// background until Close.
func (p *Pool) Start(ctx context.Context) {
	p.CheckNow(ctx)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(p.opts.HealthInterval)
		defer t.Stop()
		for {
			select {
			case <-p.closeCh:
				return
			case <-t.C:
				p.CheckNow(context.Background())
			}
		}
	}()
}

// Close stops health checks and fails queued requests.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	close(p.closeCh)
	for _, q := range p.queues {
		for e := q.Front(); e != nil; e = e.Next() {
			close(e.Value.(*waiter).ch)
		}
		q.Init()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// CheckNow probes every host concurrently and updates their state.
func (p *Pool) CheckNow(ctx context.Context) {
	var wg sync.WaitGroup
	p.mu.Lock()
	hosts := slices.Clone(p.hosts)
	urls := make([]string, len(hosts))
	for i, h := range hosts {
		urls[i] = h.cfg.URL
	}
	p.mu.Unlock()
	for i, h := range hosts {
		wg.Add(1)
		go func(h *host, url string) {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, p.opts.ProbeTimeout)
			defer cancel()
			pr, err := p.prober.Probe(pctx, url)
			p.mu.Lock()
			defer p.mu.Unlock()
			wasUp := h.up
			if err != nil {
				h.up = false
				h.lastErr = "health check failed"
				if wasUp {
					p.log.Warn("host down", "host", h.cfg.Name, "err", err)
				}
				p.failUnservable()
				return
			}
			h.up, h.everUp = true, true
			h.version = pr.Version
			h.loaded = pr.Loaded
			h.lastErr = ""
			h.models = make(map[string]ModelInfo, len(pr.Models))
			for _, m := range pr.Models {
				h.models[NormaliseModel(m.Name)] = m
			}
			if !wasUp {
				p.log.Info("host up", "host", h.cfg.Name, "models", len(h.models), "version", pr.Version)
			}
			if h.suspect {
				p.probeWorkLocked(h)
			}
			p.dispatch()
		}(h, urls[i])
	}
	wg.Wait()
}

// NormaliseModel adds the ":latest" tag Ollama implies when none is given.
func NormaliseModel(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	if i := strings.LastIndex(name, ":"); i < 0 || strings.Contains(name[i:], "/") {
		return name + ":latest"
	}
	return name
}

// Lease is a slot on a host, held while a request runs there.
type Lease struct {
	pool  *Pool
	prio  assist.Priority
	host  *host
	Host  HostConfig
	Model ModelInfo
	done  bool
}

// Release returns the slot. failed reports a host failure (not a client
// cancellation), which counts towards the host's circuit breaker.
func (l *Lease) Release(failed bool) {
	if l == nil || l.done {
		return
	}
	l.done = true
	p := l.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	h := l.host
	h.inflight--
	p.active[l.prio]--
	p.lastDone[l.prio] = p.now()
	if failed {
		h.fails++
		if h.fails >= p.opts.BreakerThreshold {
			h.openTill = p.now().Add(p.opts.BreakerCooldown)
			h.lastErr = "circuit breaker open"
			p.log.Warn("host circuit open", "host", h.cfg.Name, "failures", h.fails, "cooldown", p.opts.BreakerCooldown)
			// Requests only this host could serve fail now, not after
			// their queue timeout; the rest are dispatched again when
			// the breaker closes.
			p.failUnservable()
			p.afterCooldown()
		}
	} else {
		h.fails = 0
		h.served++
	}
	p.dispatch()
}

// MarkDown takes a host out until its next successful health check, e.g.
// after a refused connection.
func (l *Lease) MarkDown() {
	p := l.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if l.host.up {
		p.log.Warn("host down", "host", l.host.cfg.Name, "reason", "connection failed")
	}
	l.host.up = false
	l.host.lastErr = "connection failed"
	p.failUnservable()
}

// MarkSuspect takes a host out of service after it missed a first-byte
// deadline for model: it answers health checks, but may hang on work. A
// one-token generation of model must succeed on it before it gets work
// again; requests only it could serve fail at once.
func (l *Lease) MarkSuspect(embed bool) {
	p := l.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	h := l.host
	if !h.suspect {
		p.log.Warn("host suspect", "host", h.cfg.Name, "reason", "no first byte in time")
	}
	h.missed++
	h.suspect, h.suspectModel, h.suspectEmbed = true, l.Model.Name, embed
	h.lastErr = "no first byte in time; probing with a one-token generation"
	p.failUnservable()
	p.probeWorkLocked(h)
}

// probeWorkLocked starts a work probe of a suspect host unless one runs.
func (p *Pool) probeWorkLocked(h *host) {
	wp, ok := p.prober.(WorkProber)
	if !ok {
		// No way to try work: the successful health check must do.
		if h.up {
			h.suspect, h.lastErr = false, ""
		}
		return
	}
	if h.probing || p.stopped {
		return
	}
	h.probing = true
	url, model, embed := h.cfg.URL, h.suspectModel, h.suspectEmbed
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), p.opts.WorkProbeTimeout)
		defer cancel()
		go func() {
			select {
			case <-p.closeCh:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := wp.ProbeWork(ctx, url, model, embed)
		p.mu.Lock()
		defer p.mu.Unlock()
		h.probing = false
		if err != nil {
			p.log.Warn("host still suspect", "host", h.cfg.Name, "err", err)
			return
		}
		if h.suspect {
			p.log.Info("host answers work again", "host", h.cfg.Name)
		}
		h.suspect, h.fails, h.lastErr = false, 0, ""
		p.dispatch()
	}()
}

// Acquire waits for a slot on a host that serves model, honouring the
// priority class. exclude names hosts already tried. Errors: not_found
// (no host has ever had the model), unavailable (no healthy host has it),
// busy (queue full or waited too long), canceled.
func (p *Pool) Acquire(ctx context.Context, model string, prio assist.Priority, exclude ...string) (*Lease, error) {
	const op = "models.Acquire"
	if prio < 0 || prio >= assist.NumPriorities {
		return nil, assist.Errorf(assist.KindInvalid, "unknown priority class")
	}
	model = NormaliseModel(model)
	if model == "" {
		return nil, assist.E(assist.KindInvalid, op, "the request names no model")
	}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return nil, assist.E(assist.KindUnavailable, op, "the gateway is shutting down")
	}
	if known, anyUp := p.knownLocked(model); !known {
		p.mu.Unlock()
		if !anyUp {
			return nil, assist.E(assist.KindUnavailable, op, "no model host has answered yet", 5)
		}
		return nil, assist.E(assist.KindNotFound, op, "model '"+model+"' not found")
	}
	// Every queued request has been offered every free slot it could use
	// (dispatch runs after each change that frees one), so a free slot
	// that serves this request is one no waiter can use: take it.
	// Waiting for a different model or host never blocks this request.
	if h := p.pickLocked(model, prio, exclude); h != nil {
		h.inflight++
		l := p.leaseLocked(h, model, prio)
		if p.waits != nil {
			p.waits(prio, 0)
		}
		p.mu.Unlock()
		return l, nil
	}
	if !p.servableLocked(model, exclude) {
		p.mu.Unlock()
		return nil, assist.E(assist.KindUnavailable, op, "no healthy host serves model '"+model+"'", 5)
	}
	q := p.queues[prio]
	if q.Len() >= p.opts.QueueLimit[prio] {
		ra := p.retryAfterLocked(prio)
		p.mu.Unlock()
		return nil, assist.E(assist.KindBusy, op, "the "+prio.String()+" queue is full; retry later", ra)
	}
	w := &waiter{model: model, prio: prio, exclude: exclude, ch: make(chan grant, 1), since: p.now()}
	w.elem = q.PushBack(w)
	p.counts.queued[prio]++
	if p.pickFree(model, prio, exclude) {
		p.counts.idle++
	}
	p.mu.Unlock()

	timer := time.NewTimer(p.opts.QueueTimeout[prio])
	defer timer.Stop()
	select {
	case g, ok := <-w.ch:
		if !ok {
			return nil, assist.E(assist.KindUnavailable, op, "the gateway is shutting down", 5)
		}
		if g.err != nil {
			return nil, g.err
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.leaseLocked(g.h, model, prio), nil
	case <-ctx.Done():
		p.abandon(w)
		return nil, assist.ContextError(op, ctx)
	case <-timer.C:
		p.abandon(w)
		p.mu.Lock()
		p.counts.timedOut[prio]++
		ra := p.retryAfterLocked(prio)
		p.mu.Unlock()
		return nil, assist.E(assist.KindBusy, op, "waited too long for a free host; retry later", ra)
	}
}

func (p *Pool) leaseLocked(h *host, model string, prio assist.Priority) *Lease {
	mi := h.models[model]
	if mi.Name == "" {
		mi.Name = model
	}
	p.active[prio]++
	return &Lease{pool: p, prio: prio, host: h, Host: h.cfg, Model: mi}
}

// Activity reports whether requests of a class above prio are in flight
// or waiting, and how long ago the last of them finished: batch work
// (evaluations) can hold back while people wait for answers.
func (p *Pool) Activity(prio assist.Priority) (busy bool, quietFor time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var last time.Time
	for c := assist.Priority(0); c < prio && c < assist.NumPriorities; c++ {
		if p.active[c] > 0 || p.queues[c].Len() > 0 {
			busy = true
		}
		if p.lastDone[c].After(last) {
			last = p.lastDone[c]
		}
	}
	if last.IsZero() {
		return busy, time.Duration(math.MaxInt64)
	}
	return busy, p.now().Sub(last)
}

// abandon removes a waiter that gave up; a host handed to it meanwhile is returned.
func (p *Pool) abandon(w *waiter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.elem != nil {
		p.queues[w.prio].Remove(w.elem)
		w.elem = nil
		return
	}
	select {
	case g, ok := <-w.ch:
		if ok && g.h != nil {
			g.h.inflight--
			p.dispatch()
		}
	default:
	}
}

func (p *Pool) queuedAheadLocked(prio assist.Priority) int {
	n := 0
	for i := assist.Priority(0); i <= prio; i++ {
		n += p.queues[i].Len()
	}
	return n
}

func (p *Pool) retryAfterLocked(prio assist.Priority) int {
	slots := 0
	for _, h := range p.hosts {
		if h.up {
			slots += h.cfg.MaxConcurrent
		}
	}
	if slots == 0 {
		return 5
	}
	waiting := p.queuedAheadLocked(prio)
	return 1 + int(math.Ceil(float64(waiting)/float64(slots)))
}

func (p *Pool) available(h *host, model string, exclude []string) bool {
	if !h.up || h.suspect || p.now().Before(h.openTill) {
		return false
	}
	if _, ok := h.models[model]; !ok {
		return false
	}
	return !slices.Contains(exclude, h.cfg.Name)
}

// pickLocked chooses a host with a free slot: for realtime a GPU host if
// one is free, otherwise the least loaded (outstanding/limit), rotating ties.
func (p *Pool) pickLocked(model string, prio assist.Priority, exclude []string) *host {
	var best *host
	bestGPU := false
	bestLoad := math.MaxFloat64
	n := len(p.hosts)
	for i := 0; i < n; i++ {
		h := p.hosts[(p.rr+i)%n]
		if !p.available(h, model, exclude) || h.inflight >= h.cfg.limit(prio) {
			continue
		}
		gpu := prio == assist.PriorityRealtime && h.cfg.GPU()
		load := float64(h.inflight) / float64(h.cfg.MaxConcurrent)
		if best == nil || (gpu && !bestGPU) || (gpu == bestGPU && load < bestLoad) {
			best, bestGPU, bestLoad = h, gpu, load
		}
	}
	if best != nil {
		p.rr++
	}
	return best
}

// pickFree reports whether a host could take model now, without choosing.
func (p *Pool) pickFree(model string, prio assist.Priority, exclude []string) bool {
	for _, h := range p.hosts {
		if p.available(h, model, exclude) && h.inflight < h.cfg.limit(prio) {
			return true
		}
	}
	return false
}

// knownLocked reports whether any host has listed model, and whether any
// host has ever answered (before that, "not found" cannot be told apart
// from "not reachable").
func (p *Pool) knownLocked(model string) (known, anyUp bool) {
	for _, h := range p.hosts {
		if _, ok := h.models[model]; ok {
			return true, true
		}
		anyUp = anyUp || h.everUp
	}
	return false, anyUp
}

func (p *Pool) servableLocked(model string, exclude []string) bool {
	for _, h := range p.hosts {
		if p.available(h, model, exclude) {
			return true
		}
	}
	return false
}

// dispatch hands free slots to queued requests: classes in order, each
// class first come first served, and a request any free host can serve is
// never held back by an earlier one waiting for a busy host (another model,
// a host it excludes). Afterwards no queued request has a free slot it
// could use; Acquire relies on that.
func (p *Pool) dispatch() {
	if p.stopped {
		return
	}
	now := p.now()
	for prio := range p.queues {
		q := p.queues[prio]
		for e := q.Front(); e != nil; {
			next := e.Next()
			w := e.Value.(*waiter)
			if h := p.pickLocked(w.model, w.prio, w.exclude); h != nil {
				h.inflight++
				q.Remove(e)
				w.elem = nil
				p.counts.waited[prio] += now.Sub(w.since)
				if p.waits != nil {
					p.waits(assist.Priority(prio), now.Sub(w.since))
				}
				w.ch <- grant{h: h}
			}
			e = next
		}
	}
}

// failUnservable fails queued requests that no healthy host can serve any
// more (its hosts went down or opened their breakers), at once with a
// Retry-After, rather than after their queue timeout.
func (p *Pool) failUnservable() {
	for prio, q := range p.queues {
		for e := q.Front(); e != nil; {
			next := e.Next()
			w := e.Value.(*waiter)
			if !p.servableLocked(w.model, w.exclude) {
				q.Remove(e)
				w.elem = nil
				p.counts.failed[prio]++
				w.ch <- grant{err: assist.E(assist.KindUnavailable, "models.Acquire",
					"no healthy host serves model '"+w.model+"'", p.unservableRetryLocked(w))}
			}
			e = next
		}
	}
}

// unservableRetryLocked is the Retry-After for a request whose hosts are
// all out: until the first breaker closes, else a health-check interval.
func (p *Pool) unservableRetryLocked(w *waiter) int {
	now := p.now()
	best := time.Duration(0)
	for _, h := range p.hosts {
		if _, ok := h.models[w.model]; !ok || !h.up || !now.Before(h.openTill) {
			continue
		}
		if d := h.openTill.Sub(now); best == 0 || d < best {
			best = d
		}
	}
	if best == 0 {
		best = p.opts.HealthInterval
	}
	return max(1, int(math.Ceil(best.Seconds())))
}

// afterCooldown dispatches again when a breaker that just opened closes.
func (p *Pool) afterCooldown() {
	time.AfterFunc(p.opts.BreakerCooldown, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.dispatch()
	})
}

// counters are the pool's own scheduling measurements.
type counters struct {
	queued   [assist.NumPriorities]uint64        // requests that had to wait
	timedOut [assist.NumPriorities]uint64        // waits that ran out (busy)
	failed   [assist.NumPriorities]uint64        // waits ended because no host could serve them
	waited   [assist.NumPriorities]time.Duration // total wait of requests that got a slot
	idle     uint64                              // samples of a waiter with a free slot it could use
}

// HostStatus is a snapshot of one host for status pages and metrics.
type HostStatus struct {
	Name        string   `json:"name"`
	URL         string   `json:"url"`
	Labels      []string `json:"labels"`
	Up          bool     `json:"up"`
	CircuitOpen bool     `json:"circuit_open"`
	Suspect     bool     `json:"suspect"` // missed a first-byte deadline; out until a work probe succeeds
	// FirstByteMisses counts the first-byte deadlines the host missed.
	FirstByteMisses uint64      `json:"first_byte_misses"`
	Version         string      `json:"version,omitempty"`
	Models          []ModelInfo `json:"models"`
	Loaded          []string    `json:"loaded,omitempty"`
	InFlight        int         `json:"in_flight"`
	Limit           int         `json:"limit"`
	LastError       string      `json:"last_error,omitempty"`
}

// Stats is a snapshot of the pool.
type Stats struct {
	Hosts      []HostStatus
	QueueDepth [assist.NumPriorities]int
	// Queued counts requests that had to wait, per class; TimedOut those
	// whose wait ran out, Unservable those failed because no healthy host
	// could serve them any more, and Waited the total wait of those served.
	Queued, TimedOut, Unservable [assist.NumPriorities]uint64
	Waited                       [assist.NumPriorities]time.Duration
	// IdleWhileQueued counts, at each snapshot, queued requests that a
	// healthy host with a free slot could serve now: scheduling that
	// leaves work waiting beside an idle host. It stays 0.
	IdleWhileQueued uint64
}

// Stats returns a consistent snapshot.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	var s Stats
	for i, q := range p.queues {
		s.QueueDepth[i] = q.Len()
		for e := q.Front(); e != nil; e = e.Next() {
			w := e.Value.(*waiter)
			if p.pickFree(w.model, w.prio, w.exclude) {
				p.counts.idle++
			}
		}
	}
	s.Queued, s.TimedOut, s.Unservable, s.Waited = p.counts.queued, p.counts.timedOut, p.counts.failed, p.counts.waited
	s.IdleWhileQueued = p.counts.idle
	for _, h := range p.hosts {
		hs := HostStatus{Name: h.cfg.Name, URL: h.cfg.URL, Labels: h.cfg.Labels, Up: h.up,
			CircuitOpen: p.now().Before(h.openTill), Suspect: h.suspect, FirstByteMisses: h.missed, Version: h.version, Loaded: h.loaded,
			InFlight: h.inflight, Limit: h.cfg.MaxConcurrent, LastError: h.lastErr}
		for _, m := range h.models {
			hs.Models = append(hs.Models, m)
		}
		slices.SortFunc(hs.Models, func(a, b ModelInfo) int { return strings.Compare(a.Name, b.Name) })
		s.Hosts = append(s.Hosts, hs)
	}
	return s
}

// Models returns the union of models on healthy hosts, sorted by name.
func (p *Pool) Models() []ModelInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := map[string]ModelInfo{}
	for _, h := range p.hosts {
		if !h.up {
			continue
		}
		for k, m := range h.models {
			seen[k] = m
		}
	}
	out := make([]ModelInfo, 0, len(seen))
	for _, m := range seen {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b ModelInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Ready reports whether at least one host is up.
func (p *Pool) Ready() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.hosts {
		if h.up {
			return true
		}
	}
	return false
}

// AnyHost leases a slot on any healthy host, for model-independent calls
// such as /api/version or listing running models.
func (p *Pool) AnyHost() (HostConfig, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.hosts {
		if h.up {
			return h.cfg, nil
		}
	}
	return HostConfig{}, assist.E(assist.KindUnavailable, "models.AnyHost", "no model host is up", 5)
}
