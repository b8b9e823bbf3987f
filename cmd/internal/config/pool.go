package config

import (
	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/models"
)

// PoolHosts converts the configured Ollama hosts for models.NewPool.
func (c *Config) PoolHosts() []models.HostConfig {
	out := make([]models.HostConfig, 0, len(c.Hosts))
	for _, h := range c.Hosts {
		if h.Kind == KindTranscription {
			continue
		}
		out = append(out, models.HostConfig{Name: h.Name, URL: h.URL, Labels: h.Labels, MaxConcurrent: h.MaxConcurrent,
			RealtimeReserve: h.RealtimeReserve})
	}
	return out
}

// PoolOptions converts the queue, health and failover settings for models.NewPool.
func (c *Config) PoolOptions() models.Options {
	o := models.Options{
		HealthInterval:   c.Health.Interval,
		ProbeTimeout:     c.Health.ProbeTimeout,
		BreakerThreshold: c.Health.BreakerThreshold,
		BreakerCooldown:  c.Health.BreakerCooldown,
		MaxAttempts:      c.Limits.MaxAttempts,
		WorkProbeTimeout: c.Health.WorkProbeTimeout,
	}
	for p, q := range map[assist.Priority]Queue{
		assist.PriorityRealtime: c.Queues.Realtime, assist.PriorityInteractive: c.Queues.Interactive, assist.PriorityBatch: c.Queues.Batch,
	} {
		o.QueueLimit[p], o.QueueTimeout[p], o.FirstByte[p] = q.Limit, q.Timeout, q.FirstByte
	}
	return o
}
