package main

import (
	"context"
	"os"
	"strings"

	"github.com/soteai/gateway/cmd/internal/schema"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/cmd/internal/config"
)

// env is what every sub-command needs: the database and, when a
// configuration file is given, the whole configuration.
type env struct {
	environ     []string
	configPath  string
	databaseURL string
	// openAudit opens the audit log the CLI records its changes in; nil
	// means audit.Open (tests wrap it to make appends fail).
	openAudit func(ctx context.Context, db *pgxpool.Pool, opts audit.Options) (auditAppender, error)
}

// url returns the database URL from --database-url, ASSIST_DATABASE_URL or
// the configuration file, in that order.
func (e *env) url() (string, error) {
	if e.databaseURL != "" {
		return e.databaseURL, nil
	}
	for _, kv := range e.environ {
		if v, ok := strings.CutPrefix(kv, "ASSIST_DATABASE_URL="); ok && v != "" {
			return v, nil
		}
	}
	for _, kv := range e.environ {
		if f, ok := strings.CutPrefix(kv, "ASSIST_DATABASE_URL_FILE="); ok && f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return "", assist.E(assist.KindInvalid, "assist", "cannot read ASSIST_DATABASE_URL_FILE", err)
			}
			return strings.TrimSpace(string(b)), nil
		}
	}
	if e.configPath != "" {
		cfg, err := e.config()
		if err != nil {
			return "", err
		}
		return cfg.Database.URL, nil
	}
	return "", assist.Errorf(assist.KindInvalid, "no database: give --database-url, ASSIST_DATABASE_URL, ASSIST_DATABASE_URL_FILE or --config")
}

// config loads the configuration file.
func (e *env) config() (*config.Config, error) {
	return config.Load(e.configPath, e.environ)
}

// open connects to the database.
func (e *env) open(ctx context.Context) (*pgxpool.Pool, error) {
	u, err := e.url()
	if err != nil {
		return nil, err
	}
	return pgdb.Open(ctx, u, 8)
}

// migrations lists every domain's migrations in the order they apply.
func migrations() []pgdb.MigrationSet {
	return schema.Sets()
}

func newRootCmd(environ []string) *cobra.Command {
	return newRootCmdEnv(&env{environ: environ})
}

// newRootCmdEnv builds the command tree over e.
func newRootCmdEnv(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "assist",
		Short:         "Administer the SOTE AI gateway",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&e.configPath, "config", "", "gateway configuration file (YAML)")
	root.PersistentFlags().StringVar(&e.databaseURL, "database-url", "", "PostgreSQL URL (default: ASSIST_DATABASE_URL or the configuration's database.url)")
	root.SetOut(os.Stdout)
	root.SetErr(os.Stderr)
	root.AddCommand(newVersionCmd(), newMigrateCmd(e), newTokensCmd(e), newDocsCmd(e, e.openRetrieval), newRiskCmd(), newAuditCmd(e), newEvalCmd(e))
	root.AddCommand(newClinicCmd(e))
	root.AddCommand(newModelsCmd(e))
	root.AddCommand(newSummaryCmd(e))
	return root
}

func newMigrateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply every pending database migration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := e.url()
			if err != nil {
				return err
			}
			if err := pgdb.Migrate(cmd.Context(), u, migrations()...); err != nil {
				return err
			}
			cmd.Println("migrations applied")
			return nil
		},
	}
}
