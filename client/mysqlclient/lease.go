package mysqlclient

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"

	"github.com/rotorhq/rotor/client"
)

// LeaseConnector is a driver.Connector whose connections log in with the
// lease a client.LeaseSource holds.
type LeaseConnector struct {
	src  *client.LeaseSource
	base *mysql.Config
}

// NewLeaseConnector returns a connector that logs in with cfg (cloned; its
// User and Passwd are ignored) and the username and password of
// src.Current at each new connection. Address, database and TLS stay cfg's.
func NewLeaseConnector(src *client.LeaseSource, cfg *mysql.Config) (*LeaseConnector, error) {
	if src == nil {
		return nil, errors.New("mysqlclient: nil lease source")
	}
	base, err := baseConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &LeaseConnector{src: src, base: base}, nil
}

// OpenLease is sql.OpenDB over NewLeaseConnector with SetConnMaxLifetime
// set to src.ConnLifetime: database/sql closes a connection that reached
// it when it is returned, when it would be handed out again and in its
// cleaner, so every connection is closed src.Margin before its user
// expires. Do not raise the lifetime afterwards. Like sql.Open it does not
// connect. Close the DB before src.
func OpenLease(src *client.LeaseSource, cfg *mysql.Config) (*sql.DB, error) {
	c, err := NewLeaseConnector(src, cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	db.SetConnMaxLifetime(src.ConnLifetime())
	return db, nil
}

// Connect logs in with the current lease.
func (c *LeaseConnector) Connect(ctx context.Context) (driver.Conn, error) {
	l, err := c.src.Current(ctx)
	if err != nil {
		return nil, fmt.Errorf("mysqlclient: lease for a new connection: %w", err)
	}
	return dial(ctx, c.base, l.Credentials.Username, l.Credentials.Password)
}

// Driver returns the go-sql-driver/mysql driver.
func (c *LeaseConnector) Driver() driver.Driver { return &mysql.MySQLDriver{} }
