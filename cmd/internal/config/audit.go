package config

import (
	"log/slog"
	"os"

	"github.com/soteai/gateway/assist/audit"
)

// AuditOptions reads the audit keys the configuration names (inline or
// from *_file paths) into options for audit.Open.
func (c *Config) AuditOptions(log *slog.Logger) (audit.Options, error) {
	a := c.Audit
	hmacKey, err := Secret("audit.hmac_key", a.HMACKey, a.HMACKeyFile)
	if err != nil {
		return audit.Options{}, err
	}
	cpText, err := secretText(a.CheckpointKey, a.CheckpointKeyFile)
	if err != nil {
		return audit.Options{}, err
	}
	cpKey, err := audit.ParsePrivateKey(cpText)
	if err != nil {
		return audit.Options{}, err
	}
	opts := audit.Options{HMACKey: hmacKey, CheckpointKey: cpKey, Retention: a.Retention,
		CheckpointEvery: a.CheckpointEvery, Logger: log}
	if a.ContentKey != "" || a.ContentKeyFile != "" {
		text, err := secretText(a.ContentKey, a.ContentKeyFile)
		if err != nil {
			return audit.Options{}, err
		}
		if opts.ContentKey, err = audit.ParseSymmetricKey(text); err != nil {
			return audit.Options{}, err
		}
	}
	return opts, nil
}

func secretText(inline, file string) ([]byte, error) {
	if file != "" {
		return os.ReadFile(file)
	}
	return []byte(inline), nil
}
