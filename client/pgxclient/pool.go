// Package pgxclient gives a pgx v5 connection pool its credentials from a
// client.Cache: every new connection logs in with the username and password
// the cache serves, and a login PostgreSQL refuses (SQLSTATE 28P01) makes
// the cache look for the credential that logs in now (client.Cache.
// LoginRefused) and is tried again with it (at most MaxLogins logins per
// call). The statement was never sent when a login fails, so the retry
// cannot run anything twice.
//
// Host, port, database and TLS come from the pool configuration the
// application passes; the secret supplies only the username and password,
// so a rotation never changes where or how the pool connects.
//
// Errors name what failed and never carry the password.
package pgxclient

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rotorhq/rotor/client"
	"github.com/rotorhq/rotor/internal/saslprep"
)

// LoginRefused is PostgreSQL's SQLSTATE for a refused password
// (invalid_password).
const LoginRefused = "28P01"

// Pool is a *pgxpool.Pool whose calls that take a connection (Acquire,
// AcquireFunc, Exec, Query, QueryRow, SendBatch, Begin, BeginTx, CopyFrom,
// Ping) log in again when opening a new connection fails with a refused
// login and the cache found a different credential (at most MaxLogins
// logins per call).
type Pool struct {
	*pgxpool.Pool
	cache *client.Cache
}

// Configure sets cfg.BeforeConnect to take the username and password from
// cache (calling the BeforeConnect already set, if any, after it). Use it
// to build the pool yourself; NewPool uses it and adds the retry. The
// password is handed to pgx prepared as PostgreSQL prepares it (SASLprep,
// or its raw bytes where PostgreSQL uses those), so a password set by hand
// with non-ASCII characters logs in as it does with psql; the few pgx
// cannot send fail the connection with an error saying so.
func Configure(cfg *pgxpool.Config, cache *client.Cache) {
	prev := cfg.BeforeConnect
	cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
		s, err := cache.Login(ctx)
		if err != nil {
			return fmt.Errorf("pgxclient: credentials for a new connection: %w", err)
		}
		d, err := s.Document()
		if err != nil {
			return fmt.Errorf("pgxclient: credentials for a new connection: %w", err)
		}
		password, err := saslprep.ForPgx(d.Password)
		if err != nil {
			return fmt.Errorf("pgxclient: credentials for a new connection as %q: %w", d.Username, err)
		}
		cc.User, cc.Password = d.Username, password
		if u, ok := ctx.Value(usedKey{}).(*used); ok {
			u.record(s)
		}
		if prev != nil {
			return prev(ctx, cc)
		}
		return nil
	}
}

// NewPool configures cfg with Configure and creates the pool. cfg is
// typically pgxpool.ParseConfig of a connection string without user and
// password; set cfg.MaxConnLifetime from client.MaxConnLifetime of the
// rotation interval. Like pgxpool.NewWithConfig it does not connect.
func NewPool(ctx context.Context, cache *client.Cache, cfg *pgxpool.Config) (*Pool, error) {
	if cache == nil {
		return nil, errors.New("pgxclient: nil cache")
	}
	Configure(cfg, cache)
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgxclient: create pool: %w", err)
	}
	return &Pool{Pool: p, cache: cache}, nil
}

// IsLoginRefused reports whether err is a connection attempt PostgreSQL
// refused for its password.
func IsLoginRefused(err error) bool {
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	return errors.As(err, &ce) && errors.As(err, &pe) && pe.Code == LoginRefused
}

// usedKey carries a *used through an Acquire's context to BeforeConnect,
// which pgxpool calls with a context whose values are the Acquire's.
type usedKey struct{}

// used records the credential BeforeConnect logged in with.
type used struct {
	mu  sync.Mutex
	s   client.Secret
	set bool
}

func (u *used) record(s client.Secret) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.s, u.set = s, true
}

func (u *used) get() (client.Secret, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.s, u.set
}

// MaxLogins is how many logins one call makes at most: the first, and one
// more each time the cache finds a version it had not served. Two cover one
// rotation during a login. More are needed only when rotations come as fast
// as logins take (the back-to-back load proof on a loaded machine, where a
// login can outlast the next rotation's setSecret); a password Secrets
// Manager does not hold costs one extra DescribeSecret, not a loop.
const MaxLogins = 5

// retry runs fn, and again (up to MaxLogins in all) while it fails on a
// refused login and the cache finds another credential.
func retry[T any](ctx context.Context, p *Pool, fn func(context.Context) (T, error)) (T, error) {
	for n := 1; ; n++ {
		u := &used{}
		v, err := fn(context.WithValue(ctx, usedKey{}, u))
		if err == nil || !IsLoginRefused(err) || n == MaxLogins {
			return v, err
		}
		s, ok := u.get()
		if !ok {
			return v, err
		}
		again, rerr := p.cache.LoginRefused(ctx, s)
		if rerr != nil {
			return v, fmt.Errorf("%w (and looking for a newer credential failed: %v)", err, rerr)
		}
		if !again {
			return v, err
		}
	}
}

// Acquire is pgxpool.Pool.Acquire with the login retry.
func (p *Pool) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	return retry(ctx, p, func(ctx context.Context) (*pgxpool.Conn, error) { return p.Pool.Acquire(ctx) })
}

// AcquireFunc acquires a connection (with the login retry), runs f and
// releases it.
func (p *Pool) AcquireFunc(ctx context.Context, f func(*pgxpool.Conn) error) error {
	c, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return f(c)
}

// Exec is pgxpool.Pool.Exec with the login retry.
func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return retry(ctx, p, func(ctx context.Context) (pgconn.CommandTag, error) { return p.Pool.Exec(ctx, sql, args...) })
}

// Query is pgxpool.Pool.Query with the login retry.
func (p *Pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return retry(ctx, p, func(ctx context.Context) (pgx.Rows, error) { return p.Pool.Query(ctx, sql, args...) })
}

// QueryRow is pgxpool.Pool.QueryRow with the login retry.
func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c, err := p.Acquire(ctx)
	if err != nil {
		return errRow{err}
	}
	return &connRow{row: c.QueryRow(ctx, sql, args...), conn: c}
}

// SendBatch is pgxpool.Pool.SendBatch with the login retry.
func (p *Pool) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	c, err := p.Acquire(ctx)
	if err != nil {
		return errBatch{err}
	}
	return &connBatch{BatchResults: c.SendBatch(ctx, b), conn: c}
}

// Begin is pgxpool.Pool.Begin with the login retry.
func (p *Pool) Begin(ctx context.Context) (pgx.Tx, error) {
	return retry(ctx, p, func(ctx context.Context) (pgx.Tx, error) { return p.Pool.Begin(ctx) })
}

// BeginTx is pgxpool.Pool.BeginTx with the login retry.
func (p *Pool) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	return retry(ctx, p, func(ctx context.Context) (pgx.Tx, error) { return p.Pool.BeginTx(ctx, opts) })
}

// CopyFrom is pgxpool.Pool.CopyFrom with the login retry.
func (p *Pool) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	return retry(ctx, p, func(ctx context.Context) (int64, error) { return p.Pool.CopyFrom(ctx, table, columns, src) })
}

// Ping is pgxpool.Pool.Ping with the login retry.
func (p *Pool) Ping(ctx context.Context) error {
	_, err := retry(ctx, p, func(ctx context.Context) (struct{}, error) { return struct{}{}, p.Pool.Ping(ctx) })
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// connRow releases its connection after Scan, as pgxpool's own row does.
type connRow struct {
	row  pgx.Row
	conn *pgxpool.Conn
}

func (r *connRow) Scan(dest ...any) error {
	defer r.conn.Release()
	return r.row.Scan(dest...)
}

type errBatch struct{ err error }

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow(b) }
func (b errBatch) Close() error                     { return b.err }
func (b errBatch) Tx() pgx.Tx                       { return nil }

// connBatch releases its connection on the first Close, as pgxpool's own
// does; Close is safe to call again.
type connBatch struct {
	pgx.BatchResults
	conn *pgxpool.Conn
	once sync.Once
}

func (b *connBatch) Close() error {
	defer b.once.Do(b.conn.Release)
	return b.BatchResults.Close()
}
