//go:build !failpoints

package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// hookFailpoints does nothing: faults exist only in builds with the
// failpoints tag (see internal/failpoint).
func hookFailpoints(context.Context, *pgx.ConnConfig, string) {}
