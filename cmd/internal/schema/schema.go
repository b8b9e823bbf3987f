// Package schema lists the database migrations of every domain, in the
// order they are applied: one list for `assist migrate`, the server's
// start-up check and the tests, so none can forget a set.
package schema

import (
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/auth"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/summary"
	evalstore "github.com/soteai/gateway/evals/pgstore"
	"github.com/soteai/gateway/models/releases"
	"github.com/soteai/gateway/retrieval/pgstore"
)

// Sets returns every migration set the gateway needs.
func Sets() []pgdb.MigrationSet {
	return []pgdb.MigrationSet{auth.Migrations, audit.Migrations, pgstore.Migrations, evalstore.Migrations, releases.Migrations, summary.Migrations}
}
