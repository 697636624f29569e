package client_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rotorhq/rotor/client"
	"github.com/rotorhq/rotor/client/mysqlclient"
	"github.com/rotorhq/rotor/client/pgxclient"
	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/dbtest"
)

// Lease lifetimes of the pool proof: a user lives at most leaseMaxTTL, so
// the source moves to a new user about every 2/3 of it and each old user
// expires (and is reaped at once) while the queries go on.
const (
	leaseTTL    = 4 * time.Second
	leaseMaxTTL = 8 * time.Second
	leaseMargin = 500 * time.Millisecond
	wantExpired = 3
)

// TestLeasePoolsOutliveTheirUsers is the field's failure case, "credentials
// expire mid-request in a pool", on both engines: pools of 4 connections
// query without pause while their lease is renewed, replaced at its maximum
// TTL, and each replaced user expires and is dropped the moment it expires
// (sessions terminated first). The test runs until at least three users
// have been dropped, and asserts that no query failed, that the pool moved
// through at least four users, and that Close revoked what was left.
func TestLeasePoolsOutliveTheirUsers(t *testing.T) {
	t.Parallel()
	engines := map[string]func(t *testing.T) (*testIssuer, func(*client.LeaseSource) (query func(context.Context) (string, error), closePool func())){
		"postgres": func(t *testing.T) (*testIssuer, func(*client.LeaseSource) (func(context.Context) (string, error), func())) {
			pg := dbtest.Postgres(t)
			ti, db := newPGIssuer(t, pg, leaseTTL, leaseMaxTTL)
			return ti, func(src *client.LeaseSource) (func(context.Context) (string, error), func()) {
				cfg, err := pgxpool.ParseConfig(pg.ConnString("", db))
				if err != nil {
					t.Fatal(err)
				}
				cfg.MaxConns = 4
				pool, err := pgxclient.NewLeasePool(context.Background(), src, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if cfg.MaxConnLifetime != src.ConnLifetime() {
					t.Fatalf("MaxConnLifetime %s, want the source's %s", cfg.MaxConnLifetime, src.ConnLifetime())
				}
				return func(ctx context.Context) (string, error) {
					var user string
					var n int
					err := pool.QueryRow(ctx, "SELECT current_user, count(*) FROM t").Scan(&user, &n)
					return user, err
				}, pool.Close
			}
		},
		"mariadb": func(t *testing.T) (*testIssuer, func(*client.LeaseSource) (func(context.Context) (string, error), func())) {
			m := dbtest.MariaDB(t)
			ti, db := newMariaIssuer(t, m, leaseTTL, leaseMaxTTL)
			return ti, func(src *client.LeaseSource) (func(context.Context) (string, error), func()) {
				sdb, err := mysqlclient.OpenLease(src, m.Config("ignored", "ignored", db))
				if err != nil {
					t.Fatal(err)
				}
				sdb.SetMaxOpenConns(4)
				return func(ctx context.Context) (string, error) { return sqlWho(ctx, sdb) }, func() { sdb.Close() }
			}
		},
	}
	for name, setup := range engines {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ti, open := setup(t)
			var logs syncBuffer
			src, err := client.NewLeaseSource(context.Background(), ti, client.LeaseOptions{Role: "app", Margin: leaseMargin, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if want := leaseTTL/4 - leaseMargin; src.ConnLifetime() != want {
				t.Fatalf("ConnLifetime %s, want %s", src.ConnLifetime(), want)
			}
			query, closePool := open(src)

			var (
				queries, failures atomic.Int64
				firstErr          atomic.Value
				usersMu           sync.Mutex
				users             = map[string]bool{}
			)
			ctx, stop := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
						u, err := query(qctx)
						cancel()
						if ctx.Err() != nil {
							return
						}
						queries.Add(1)
						if err != nil {
							failures.Add(1)
							firstErr.CompareAndSwap(nil, err)
							continue
						}
						usersMu.Lock()
						users[strings.SplitN(u, "@", 2)[0]] = true
						usersMu.Unlock()
					}
				}()
			}
			deadline := time.Now().Add(60 * time.Second)
			for ti.reaped.Load() < wantExpired && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			stop()
			wg.Wait()
			closePool()
			if err := src.Close(context.Background()); err != nil {
				t.Errorf("Close: %v", err)
			}
			t.Logf("%s: %d queries, %d failed, %d users logged in as, %d issued, %d renewals, %d reaped at expiry", name, queries.Load(), failures.Load(), len(users), ti.issues.Load(), ti.renewals.Load(), ti.reaped.Load())
			if err, _ := ti.reaperErrors.Load().(error); err != nil {
				t.Fatalf("the test's reaper failed: %v", err)
			}
			if n := ti.reaped.Load(); n < wantExpired {
				t.Fatalf("%d users expired within a minute, want %d", n, wantExpired)
			}
			if n := failures.Load(); n != 0 {
				t.Fatalf("%d of %d queries failed; the first: %v", n, queries.Load(), firstErr.Load())
			}
			if len(users) < wantExpired+1 {
				t.Fatalf("queries ran as %d users, want at least %d: the pool did not move to new leases", len(users), wantExpired+1)
			}
			if ti.renewals.Load() < wantExpired {
				t.Fatalf("%d renewals, want at least %d (one per lease before its maximum)", ti.renewals.Load(), wantExpired)
			}
			if left := ti.remaining(); len(left) != 0 {
				t.Fatalf("users left after Close: %v (Close must revoke what it holds)", left)
			}
			ti.mu.Lock()
			defer ti.mu.Unlock()
			for _, pw := range ti.passwords {
				if strings.Contains(logs.String(), pw) {
					t.Fatalf("the source's log holds a password:\n%s", logs.String())
				}
			}
			if !strings.Contains(logs.String(), "lease renewed") || !strings.Contains(logs.String(), "new lease") {
				t.Fatalf("the source's log has no renewal or new lease:\n%s", logs.String())
			}
		})
	}
}

func sqlWho(ctx context.Context, db *sql.DB) (string, error) {
	var user string
	var n int
	err := db.QueryRowContext(ctx, "SELECT CURRENT_USER(), count(*) FROM t").Scan(&user, &n)
	return user, err
}

// issuerFunc adapts a function to client.Issuer.
type issuerFunc func(context.Context, events.LeaseRequest) (events.Lease, error)

func (f issuerFunc) Lease(ctx context.Context, r events.LeaseRequest) (events.Lease, error) {
	return f(ctx, r)
}

func TestNewLeaseSourceRefuses(t *testing.T) {
	t.Parallel()
	now := time.Now()
	lease := func(span time.Duration) issuerFunc {
		return func(_ context.Context, r events.LeaseRequest) (events.Lease, error) {
			if r.ActionOrDefault() == events.LeaseRevoke {
				return events.Lease{Revoked: true}, nil
			}
			return events.Lease{Role: r.Role, Credentials: &events.SecretDocument{Username: "v_app_1", Password: "lease-secret-pw"}, IssuedAt: now, ExpiresAt: now.Add(span), MaxExpiresAt: now.Add(2 * span)}, nil
		}
	}
	refused := issuerFunc(func(context.Context, events.LeaseRequest) (events.Lease, error) {
		return events.Lease{}, errors.New("unknown role definition \"app\"")
	})
	cases := map[string]struct {
		issuer client.Issuer
		opts   client.LeaseOptions
		want   string
	}{
		"nil issuer":         {nil, client.LeaseOptions{Role: "app"}, "nil lease issuer"},
		"no role":            {lease(time.Hour), client.LeaseOptions{}, "Role: missing"},
		"fractional TTL":     {lease(time.Hour), client.LeaseOptions{Role: "app", TTL: 1500 * time.Millisecond}, "whole number of seconds"},
		"lease too short":    {lease(10 * time.Second), client.LeaseOptions{Role: "app", Margin: 5 * time.Second}, "too short for a connection lifetime"},
		"issuer refuses":     {refused, client.LeaseOptions{Role: "app"}, `issue lease of role "app": unknown role definition`},
		"answer has expired": {lease(-time.Second), client.LeaseOptions{Role: "app"}, "not in the future"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			src, err := client.NewLeaseSource(context.Background(), c.issuer, c.opts)
			if err == nil {
				src.Close(context.Background())
				t.Fatalf("accepted, want an error with %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "lease-secret-pw") {
				t.Fatalf("error %q, want one with %q and no password", err, c.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the source's renewer goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
