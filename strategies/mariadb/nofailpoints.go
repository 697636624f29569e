//go:build !failpoints

package mariadb

import (
	"context"
	"database/sql/driver"

	"github.com/go-sql-driver/mysql"
)

// newConnector is mysql.NewConnector: faults exist only in builds with the
// failpoints tag (see internal/failpoint).
func newConnector(_ context.Context, cfg *mysql.Config, _ string) (driver.Connector, error) {
	return mysql.NewConnector(cfg)
}
