package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"strconv"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/cmd/internal/config"
	"github.com/soteai/gateway/models"
)

// reloader applies a changed configuration on SIGHUP. The host list
// (hosts, labels, limits) takes effect at once; other settings need a
// restart, and the log says so. A configuration that does not validate is
// refused and the running one kept. Every attempt is an audit record.
type reloader struct {
	path    string
	environ []string
	pool    *models.Pool
	speech  *speechEngines // the transcription hosts' pool; nil in tests of the reloader alone
	audit   *audit.Log     // nil when auditing is disabled
	log     *slog.Logger
}

func (r reloader) reload(ctx context.Context) {
	ev := audit.Event{Kind: audit.KindConfigReload, Actor: assist.Actor{TokenID: "signal:SIGHUP", Name: "operator (SIGHUP)"},
		Attrs: map[string]string{}}
	if data, err := os.ReadFile(r.path); err == nil {
		sum := sha256.Sum256(data)
		ev.Attrs["config_sha256"] = hex.EncodeToString(sum[:])
	}
	cfg, err := config.Load(r.path, r.environ)
	if err != nil {
		r.log.Error("configuration reload refused; keeping the running configuration", "err", err)
		ev.Outcome, ev.ErrorKind = audit.OutcomeRefused, assist.KindInvalid
	} else {
		r.pool.SetHosts(cfg.PoolHosts())
		r.pool.CheckNow(ctx)
		if r.speech != nil {
			if err := r.speech.reload(ctx, cfg); err != nil {
				r.log.Error("the transcription hosts were not reloaded", "err", err)
			}
		}
		ev.Outcome = audit.OutcomeOK
		ev.Attrs["hosts"] = strconv.Itoa(len(cfg.Hosts))
		r.log.Info("configuration reloaded", "hosts", len(cfg.Hosts), "note", "only the host list is applied without a restart")
	}
	if r.audit != nil {
		if _, err := r.audit.Append(ctx, ev); err != nil {
			r.log.Error("the configuration reload could not be recorded in the audit log", "err", err)
		}
	}
}
