package pgxclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rotorhq/rotor/client"
)

// ConfigureLease makes cfg's pool log in with the leases src holds and
// replace connections before their user expires:
//
//   - BeforeConnect takes the username and password of src.Current (then
//     calls the BeforeConnect already set, if any);
//   - MaxConnLifetime is lowered to src.ConnLifetime (jitter removed, as it
//     would let a connection outlive it), which pgxpool enforces at release,
//     at acquire and in its health check;
//   - PrepareConn (before any already set) destroys, before handing it out,
//     a connection whose user src does not know or that expires within
//     src.Margin, and the pool acquires another: the check holds even if a
//     connection escaped the lifetime. As pgxpool ignores the deprecated
//     BeforeAcquire once PrepareConn is set, move such a hook to
//     PrepareConn before calling ConfigureLease.
//
// Host, port, database and TLS stay cfg's: the lease supplies only the
// username and password.
func ConfigureLease(cfg *pgxpool.Config, src *client.LeaseSource) {
	prevConnect := cfg.BeforeConnect
	cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
		l, err := src.Current(ctx)
		if err != nil {
			return fmt.Errorf("pgxclient: lease for a new connection: %w", err)
		}
		cc.User, cc.Password = l.Credentials.Username, l.Credentials.Password
		if prevConnect != nil {
			return prevConnect(ctx, cc)
		}
		return nil
	}
	if cfg.MaxConnLifetime <= 0 || cfg.MaxConnLifetime > src.ConnLifetime() {
		cfg.MaxConnLifetime = src.ConnLifetime()
	}
	cfg.MaxConnLifetimeJitter = 0
	if cfg.HealthCheckPeriod <= 0 || cfg.HealthCheckPeriod > src.ConnLifetime() {
		cfg.HealthCheckPeriod = src.ConnLifetime()
	}
	prevPrepare := cfg.PrepareConn
	cfg.PrepareConn = func(ctx context.Context, c *pgx.Conn) (bool, error) {
		if !src.UserValid(c.Config().User) {
			return false, nil
		}
		if prevPrepare != nil {
			return prevPrepare(ctx, c)
		}
		return true, nil
	}
}

// NewLeasePool configures cfg with ConfigureLease and creates the pool.
// cfg is typically pgxpool.ParseConfig of a connection string without user
// and password. Like pgxpool.NewWithConfig it does not connect. Close the
// pool before src.
func NewLeasePool(ctx context.Context, src *client.LeaseSource, cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	if src == nil {
		return nil, errors.New("pgxclient: nil lease source")
	}
	if cfg == nil {
		return nil, errors.New("pgxclient: nil pool config")
	}
	ConfigureLease(cfg, src)
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgxclient: create pool: %w", err)
	}
	return p, nil
}
