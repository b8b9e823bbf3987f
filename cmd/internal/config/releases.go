package config

import (
	"time"

	"github.com/soteai/gateway/assist"
)

// Releases configures model-release enforcement.
type Releases struct {
	// Enforce lists the tasks served only by their approved model
	// release (name and digest); the others use models.tasks / models.chat.
	Enforce []assist.Task `yaml:"enforce" env:"ENFORCE"`
	// CacheTTL is how soon a decision made elsewhere (assist models
	// approve) applies (default 2 s).
	CacheTTL time.Duration `yaml:"cache_ttl" env:"CACHE_TTL"`
}

// EnforcedTasks is Releases.Enforce as a set.
func (c *Config) EnforcedTasks() map[assist.Task]bool {
	m := map[assist.Task]bool{}
	for _, t := range c.Releases.Enforce {
		m[t] = true
	}
	return m
}
