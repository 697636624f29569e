package client_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rotorhq/rotor/client"
	"github.com/rotorhq/rotor/client/mysqlclient"
	"github.com/rotorhq/rotor/client/pgxclient"
	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/lease"
	"github.com/rotorhq/rotor/internal/lease/leasetest"
)

// Lease lifetimes of the pool proof: a user lives at most leaseMaxTTL, so
// the source moves to a new user about every 2/3 of it and each old user
// expires (and is reaped at once) while the queries go on. The margin is
// what a stalled process may lose between checking a lease and using a
// connection: 0.5 s was lost once under the whole suite's load on 2 cores
// (a MariaDB query cut by the reaper), so it is 1 s; production margins
// are seconds against TTLs of minutes.
const (
	leaseTTL    = 6 // seconds
	leaseMaxTTL = 12
	leaseMargin = time.Second
	wantExpired = 3
)

// countingIssuer is rotor's issuer (lease.Service, in-process) counting
// what it was asked and remembering every password for the leak sweep.
type countingIssuer struct {
	w                       *leasetest.World
	svc                     *lease.Service
	issues, renews, revokes atomic.Int64
}

func (c *countingIssuer) Lease(ctx context.Context, req events.LeaseRequest) (events.Lease, error) {
	l, err := c.svc.Handle(ctx, req)
	if err != nil {
		return l, err
	}
	if l.Credentials != nil {
		c.w.Remember(l.Credentials.Password)
	}
	switch req.ActionOrDefault() {
	case events.LeaseIssue:
		c.issues.Add(1)
	case events.LeaseRenew:
		c.renews.Add(1)
	case events.LeaseRevoke:
		c.revokes.Add(1)
	}
	return l, nil
}

// TestLeasePoolsOutliveTheirUsers is the field's failure case, "credentials
// expire mid-request in a pool", on both engines, with rotor's issuer and
// reaper (package lease, in-process): pools of 4 connections query without
// pause while their lease is renewed and replaced at its maximum TTL, and
// the reaper runs back to back, so each replaced user is dropped (its
// sessions ended) as soon as it expires. The test runs until at least three
// users have been reaped, and asserts that no query failed, that the pool
// moved through at least four users, that Close revoked what was left, and
// (leasetest's sweep) that no password reached a log.
func TestLeasePoolsOutliveTheirUsers(t *testing.T) {
	t.Parallel()
	type opener func(t *testing.T, w *leasetest.World, src *client.LeaseSource, where *events.SecretDocument) (query func(context.Context) (string, error), closePool func())
	engines := map[string]opener{
		"postgres": func(t *testing.T, w *leasetest.World, src *client.LeaseSource, where *events.SecretDocument) (func(context.Context) (string, error), func()) {
			// Where and how to connect are the application's: here the
			// lease's host, port and database, and verify-full.
			cfg, err := pgxpool.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=%s sslmode=verify-full sslrootcert=%s", where.Host, where.Port, where.DBName, w.CAFile))
			if err != nil {
				t.Fatal(err)
			}
			cfg.MaxConns = 4
			pool, err := pgxclient.NewLeasePool(context.Background(), src, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxConnLifetime != src.ConnLifetime() || cfg.PrepareConn == nil {
				t.Fatalf("MaxConnLifetime %s, want the source's %s, and a PrepareConn check", cfg.MaxConnLifetime, src.ConnLifetime())
			}
			return func(ctx context.Context) (string, error) {
				var user string
				var n int
				err := pool.QueryRow(ctx, "SELECT current_user, count(*) FROM public.probe").Scan(&user, &n)
				return user, err
			}, pool.Close
		},
		"mariadb": func(t *testing.T, w *leasetest.World, src *client.LeaseSource, where *events.SecretDocument) (func(context.Context) (string, error), func()) {
			cfg := mysql.NewConfig()
			cfg.Net, cfg.Addr, cfg.DBName = "tcp", net.JoinHostPort(where.Host, strconv.Itoa(where.Port)), where.DBName
			cfg.TLS = &tls.Config{RootCAs: w.Pool, ServerName: where.Host}
			sdb, err := mysqlclient.OpenLease(src, cfg)
			if err != nil {
				t.Fatal(err)
			}
			sdb.SetMaxOpenConns(4)
			return func(ctx context.Context) (string, error) { return sqlWho(ctx, sdb) }, func() { sdb.Close() }
		},
	}
	for name, open := range engines {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := leasetest.New(t, name)
			svc := w.Service(t, w.Roles(leasetest.Role{Name: "app", DefaultTTL: leaseTTL, MaxTTL: leaseMaxTTL}))
			iss := &countingIssuer{w: w, svc: svc}
			var logs syncBuffer
			src, err := client.NewLeaseSource(context.Background(), iss, client.LeaseOptions{Role: "app", Margin: leaseMargin, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if want := leaseTTL*time.Second/4 - leaseMargin; src.ConnLifetime() != want {
				t.Fatalf("ConnLifetime %s, want %s", src.ConnLifetime(), want)
			}
			first, err := src.Current(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			query, closePool := open(t, w, src, first.Credentials)

			// The reaper, back to back.
			var reaped atomic.Int64
			var reapFailure atomic.Value
			reapCtx, stopReaper := context.WithCancel(context.Background())
			reaperDone := make(chan struct{})
			go func() {
				defer close(reaperDone)
				for reapCtx.Err() == nil {
					r := svc.Reap(reapCtx)
					reaped.Add(int64(r.Reaped))
					if len(r.Failures) > 0 && reapCtx.Err() == nil {
						reapFailure.CompareAndSwap(nil, fmt.Sprintf("%+v", r.Failures))
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()

			var (
				queries, failures atomic.Int64
				// firstErr holds the first failure; atomic.Value would panic
				// when a later error has another concrete type.
				firstErr atomic.Pointer[error]
				usersMu  sync.Mutex
				users    = map[string]bool{}
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
							firstErr.CompareAndSwap(nil, &err)
							continue
						}
						usersMu.Lock()
						users[strings.SplitN(u, "@", 2)[0]] = true
						usersMu.Unlock()
					}
				}()
			}
			// Until wantExpired users were reaped and queries ran as a user
			// after them (the reaper can drop the last expired user before
			// any query ran as the lease that replaced it).
			usersSeen := func() int {
				usersMu.Lock()
				defer usersMu.Unlock()
				return len(users)
			}
			deadline := time.Now().Add(90 * time.Second)
			for (reaped.Load() < wantExpired || usersSeen() < wantExpired+1) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			stop()
			wg.Wait()
			stopReaper()
			<-reaperDone
			closePool()
			if err := src.Close(context.Background()); err != nil {
				t.Errorf("Close: %v", err)
			}
			t.Logf("%s: %d queries, %d failed, %d users logged in as, %d issued, %d renewed, %d reaped at expiry, %d revoked by Close",
				name, queries.Load(), failures.Load(), len(users), iss.issues.Load(), iss.renews.Load(), reaped.Load(), iss.revokes.Load())
			if f := reapFailure.Load(); f != nil {
				t.Fatalf("the reaper failed: %v", f)
			}
			if n := reaped.Load(); n < wantExpired {
				t.Fatalf("%d users reaped within 90 s, want %d", n, wantExpired)
			}
			if n := failures.Load(); n != 0 {
				t.Fatalf("%d of %d queries failed; the first: %v", n, queries.Load(), *firstErr.Load())
			}
			if len(users) < wantExpired+1 {
				t.Fatalf("queries ran as %d users within 90 s, want at least %d: the pool did not move to new leases", len(users), wantExpired+1)
			}
			// At least one renewal: how many depends on timing (a renewal
			// that comes late, on a loaded machine, would leave less than
			// 5/6 of a lease before the maximum, so the source takes a new
			// lease instead, which is also correct). The guarantee is the
			// zero failures above, across every move.
			if iss.renews.Load() < 1 {
				t.Fatalf("no renewal in %d leases: the source never renews", iss.issues.Load())
			}
			// What Close revoked and what expired meanwhile, the reaper's
			// last runs dropped: no lease user is left.
			svc.Reap(context.Background())
			if n := w.Users(lease.UserPrefix + "app_"); n != 0 {
				t.Fatalf("%d lease users left after Close and a last reap", n)
			}
			if !strings.Contains(logs.String(), "lease renewed") || !strings.Contains(logs.String(), "new lease") {
				t.Fatalf("the source's log has no renewal or new lease:\n%s", logs.String())
			}
			w.AddLeakOutput("lease source log", logs.String())
		})
	}
}

func sqlWho(ctx context.Context, db *sql.DB) (string, error) {
	var user string
	var n int
	err := db.QueryRowContext(ctx, "SELECT CURRENT_USER(), count(*) FROM probe").Scan(&user, &n)
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

// TestLeaseSourceMovesOnWhenRenewalIsRefused: a lease revoked behind the
// source's back (an operator, or the reaper after a long outage) makes the
// next renewal fail; the source then obtains a new lease, a new user,
// instead of giving up, and Close revokes that one.
func TestLeaseSourceMovesOnWhenRenewalIsRefused(t *testing.T) {
	t.Parallel()
	w := leasetest.New(t, "postgres")
	svc := w.Service(t, w.Roles(leasetest.Role{Name: "app", DefaultTTL: 3, MaxTTL: 60}))
	iss := &countingIssuer{w: w, svc: svc}
	var logs syncBuffer
	src, err := client.NewLeaseSource(context.Background(), iss, client.LeaseOptions{Role: "app", Margin: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	first, err := src.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := first.Credentials
	if _, err := svc.Handle(context.Background(), events.LeaseRequest{Action: events.LeaseRevoke, Role: "app", Username: c.Username, Password: c.Password}); err != nil {
		t.Fatalf("revoke behind the source's back: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for iss.issues.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	now, err := src.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if iss.issues.Load() != 2 || now.Credentials.Username == c.Username {
		t.Fatalf("%d issues, current user %s (first %s); want a second lease of another user after the refused renewal", iss.issues.Load(), now.Credentials.Username, c.Username)
	}
	if err := w.Use(now.Credentials.Username, now.Credentials.Password); err != nil {
		t.Fatalf("the new lease does not log in: %v", err)
	}
	if !strings.Contains(logs.String(), "lease renewal refused; obtaining a new lease") {
		t.Fatalf("the source did not say why it moved:\n%s", logs.String())
	}
	if err := src.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := w.Users(lease.UserPrefix + "app_"); n != 0 {
		t.Fatalf("%d lease users left after Close", n)
	}
	if _, err := src.Current(context.Background()); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Current after Close: %v, want an error saying the source is closed", err)
	}
	w.AddLeakOutput("lease source log", logs.String())
}
