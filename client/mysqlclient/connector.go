// Package mysqlclient gives database/sql connections to MariaDB or MySQL
// (github.com/go-sql-driver/mysql) their credentials from a client.Cache:
// every new connection logs in with the username and password the cache
// serves, and a login the server refuses (error 1045, access denied) makes
// the cache look for the credential that logs in now (client.Cache.
// LoginRefused) and is tried again with it (at most MaxLogins logins per
// connection). Nothing was sent when a login fails, so the retry cannot
// run a statement twice.
//
// Address, database, TLS and every other setting come from the
// *mysql.Config the application passes; the secret supplies only the
// username and password.
//
// Errors name what failed and never carry the password.
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

// LoginRefused is the server's error number for a refused login
// (ER_ACCESS_DENIED_ERROR).
const LoginRefused = 1045

// Connector is a driver.Connector for sql.OpenDB.
type Connector struct {
	cache *client.Cache
	base  *mysql.Config
}

// NewConnector returns a connector that logs in with cfg (cloned; its User
// and Passwd are ignored) and the cache's credentials. Set the pool's
// SetConnMaxLifetime from client.MaxConnLifetime of the rotation interval.
func NewConnector(cache *client.Cache, cfg *mysql.Config) (*Connector, error) {
	if cache == nil {
		return nil, errors.New("mysqlclient: nil cache")
	}
	base, err := baseConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Connector{cache: cache, base: base}, nil
}

// baseConfig clones cfg without its credentials: every connector fills in
// User and Passwd per connection from where the credentials live.
func baseConfig(cfg *mysql.Config) (*mysql.Config, error) {
	if cfg == nil {
		return nil, errors.New("mysqlclient: nil config")
	}
	base := cfg.Clone()
	base.User, base.Passwd = "", ""
	return base, nil
}

// Open is sql.OpenDB over NewConnector. Like sql.Open it does not connect.
func Open(cache *client.Cache, cfg *mysql.Config) (*sql.DB, error) {
	c, err := NewConnector(cache, cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// MaxLogins is how many logins one Connect makes at most: the first, and
// one more each time the cache finds a version it had not served (see
// pgxclient.MaxLogins for why five).
const MaxLogins = 5

// Connect logs in with the credential the cache serves; while the server
// refuses it and the cache finds another (LoginRefused), it logs in again
// with that one, up to MaxLogins logins.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	for n := 1; ; n++ {
		s, err := c.cache.Login(ctx)
		if err != nil {
			return nil, fmt.Errorf("mysqlclient: credentials for a new connection: %w", err)
		}
		conn, err := c.connect(ctx, s)
		if err == nil || !IsLoginRefused(err) || n == MaxLogins {
			return conn, err
		}
		again, rerr := c.cache.LoginRefused(ctx, s)
		if rerr != nil {
			return nil, fmt.Errorf("%w (and looking for a newer credential failed: %v)", err, rerr)
		}
		if !again {
			return nil, err
		}
	}
}

func (c *Connector) connect(ctx context.Context, s client.Secret) (driver.Conn, error) {
	d, err := s.Document()
	if err != nil {
		return nil, fmt.Errorf("mysqlclient: credentials for a new connection: %w", err)
	}
	return dial(ctx, c.base, d.Username, d.Password)
}

// dial logs in to the server base names as user.
func dial(ctx context.Context, base *mysql.Config, user, password string) (driver.Conn, error) {
	cfg := base.Clone()
	cfg.User, cfg.Passwd = user, password
	mc, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysqlclient: connector for %q: %w", user, err)
	}
	return mc.Connect(ctx)
}

// Driver returns the go-sql-driver/mysql driver.
func (c *Connector) Driver() driver.Driver { return &mysql.MySQLDriver{} }

// IsLoginRefused reports whether err is a login the server refused
// (error 1045).
func IsLoginRefused(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == LoginRefused
}
