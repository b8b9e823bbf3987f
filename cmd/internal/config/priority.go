package config

import (
	"fmt"
	"sort"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/auth"
)

// PriorityPolicy is the scheduling-class ceiling per role and credential.
func (c *Config) PriorityPolicy() (auth.PriorityPolicy, error) {
	p := auth.DefaultPriorityPolicy()
	p.ByCredential = map[string]assist.Priority{}
	switch c.Auth.PriorityOverCeiling {
	case "refuse", "":
	case "lower":
		p.Lower = true
	default:
		return p, fmt.Errorf("config: auth.priority_over_ceiling: must be refuse or lower, got %q", c.Auth.PriorityOverCeiling)
	}
	for _, role := range sortedKeys(c.Auth.MaxPriority) {
		r, err := assist.ParseRole(role)
		if err != nil {
			return p, fmt.Errorf("config: auth.max_priority: %v", assist.MessageOf(err))
		}
		prio, err := parseClass(c.Auth.MaxPriority[role])
		if err != nil {
			return p, fmt.Errorf("config: auth.max_priority.%s: %v", role, err)
		}
		p.ByRole[r] = prio
	}
	for _, id := range sortedKeys(c.Auth.CredentialMaxPriority) {
		prio, err := parseClass(c.Auth.CredentialMaxPriority[id])
		if err != nil {
			return p, fmt.Errorf("config: auth.credential_max_priority.%s: %v", id, err)
		}
		p.ByCredential[id] = prio
	}
	return p, nil
}

// parseClass is ParsePriority without the empty default: a ceiling must be
// named.
func parseClass(s string) (assist.Priority, error) {
	if s == "" {
		return 0, fmt.Errorf("must be realtime, interactive or batch")
	}
	p, err := assist.ParsePriority(s)
	if err != nil {
		return 0, fmt.Errorf("%s", assist.MessageOf(err))
	}
	return p, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
