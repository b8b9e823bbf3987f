// Package models is the gateway's model-serving domain: the pool of Ollama
// hosts, their health, and the scheduling of each request onto a host.
//
// A request names a model and a priority class (realtime > interactive >
// batch). The pool sends it to a healthy host that has the model — a GPU
// host first for realtime, otherwise the one with the fewest outstanding
// requests — or queues it in a bounded per-class queue with a deadline.
// Connection failures before the first byte fail over to another host; a
// host that keeps failing is taken out for a while (circuit breaker).
//
// models talks to hosts only through the small Transport interface; the
// Ollama wire protocol lives in models/ollama. It must not import echo,
// pgx or any other adapter.
package models
