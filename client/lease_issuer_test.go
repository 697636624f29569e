package client_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/dbserver"
	"github.com/rotorhq/rotor/internal/local/dbtest"
)

// testIssuer issues leases on the harness's PostgreSQL or MariaDB for one
// role definition, as functions/issuer does, and reaps a user the moment
// it expires (terminating its sessions, then dropping it), stricter than
// the scheduled reaper: a pool that keeps a connection past its user's
// expiry fails a query at once.
type testIssuer struct {
	engine       string
	role, group  string
	ttl, maxTTL  time.Duration
	create       func(ctx context.Context, user, password string, until time.Time) error
	extend       func(ctx context.Context, user string, until time.Time) error
	drop         func(ctx context.Context, user string) error
	doc          func(user, password string) *events.SecretDocument
	mu           sync.Mutex
	leases       map[string]*issued
	passwords    []string // every password issued
	reaped       atomic.Int64
	renewals     atomic.Int64
	issues       atomic.Int64
	stopReaper   chan struct{}
	reaperDone   chan struct{}
	reaperErrors atomic.Value
}

type issued struct {
	password            string
	issuedAt, expiresAt time.Time
	maxExpiresAt        time.Time
}

func (ti *testIssuer) Lease(ctx context.Context, req events.LeaseRequest) (events.Lease, error) {
	if err := req.Validate(); err != nil {
		return events.Lease{}, err
	}
	if req.Role != ti.role {
		return events.Lease{}, fmt.Errorf("unknown role definition %q", req.Role)
	}
	ttl := ti.ttl
	if req.TTLSeconds > 0 {
		ttl = time.Duration(req.TTLSeconds) * time.Second
	}
	if ttl > ti.maxTTL {
		return events.Lease{}, fmt.Errorf("ttlSeconds %d over the maximum", req.TTLSeconds)
	}
	now := time.Now()
	switch req.ActionOrDefault() {
	case events.LeaseIssue:
		user := "v_" + ti.role + "_" + randomHex(6)
		password := randomHex(16)
		l := &issued{password: password, issuedAt: now, expiresAt: now.Add(ttl), maxExpiresAt: now.Add(ti.maxTTL)}
		if err := ti.create(ctx, user, password, l.expiresAt); err != nil {
			return events.Lease{}, err
		}
		ti.mu.Lock()
		ti.leases[user] = l
		ti.passwords = append(ti.passwords, password)
		ti.mu.Unlock()
		ti.issues.Add(1)
		return ti.answer(user, l), nil
	case events.LeaseRenew:
		ti.mu.Lock()
		l, ok := ti.leases[req.Username]
		ti.mu.Unlock()
		if !ok || l.password != req.Password || !now.Before(l.expiresAt) {
			return events.Lease{}, fmt.Errorf("no unexpired lease of user %q with that password", req.Username)
		}
		until := now.Add(ttl)
		if until.After(l.maxExpiresAt) {
			until = l.maxExpiresAt
		}
		if err := ti.extend(ctx, req.Username, until); err != nil {
			return events.Lease{}, err
		}
		ti.mu.Lock()
		l.expiresAt = until
		ti.mu.Unlock()
		ti.renewals.Add(1)
		return ti.answer(req.Username, l), nil
	default:
		ti.mu.Lock()
		l, ok := ti.leases[req.Username]
		if ok && l.password == req.Password {
			delete(ti.leases, req.Username)
		}
		ti.mu.Unlock()
		if !ok || l.password != req.Password {
			return events.Lease{}, fmt.Errorf("no lease of user %q with that password", req.Username)
		}
		if err := ti.drop(ctx, req.Username); err != nil {
			return events.Lease{}, err
		}
		return events.Lease{Role: ti.role, Revoked: true, IssuedAt: l.issuedAt, ExpiresAt: now, MaxExpiresAt: l.maxExpiresAt}, nil
	}
}

func (ti *testIssuer) answer(user string, l *issued) events.Lease {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	return events.Lease{Role: ti.role, Credentials: ti.doc(user, l.password), IssuedAt: l.issuedAt, ExpiresAt: l.expiresAt, MaxExpiresAt: l.maxExpiresAt}
}

// reap drops every user whose lease expired, every 20 ms, until stopped.
func (ti *testIssuer) reap() {
	defer close(ti.reaperDone)
	for {
		select {
		case <-ti.stopReaper:
			return
		case <-time.After(20 * time.Millisecond):
		}
		now := time.Now()
		ti.mu.Lock()
		var expired []string
		for u, l := range ti.leases {
			if !now.Before(l.expiresAt) {
				expired = append(expired, u)
				delete(ti.leases, u)
			}
		}
		ti.mu.Unlock()
		for _, u := range expired {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := ti.drop(ctx, u); err != nil {
				ti.reaperErrors.Store(err)
			}
			cancel()
			ti.reaped.Add(1)
		}
	}
}

// remaining returns the users the issuer still holds.
func (ti *testIssuer) remaining() []string {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	var us []string
	for u := range ti.leases {
		us = append(us, u)
	}
	return us
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newPGIssuer sets up a database with table t readable by a group role,
// and an issuer of leases that are members of it.
func newPGIssuer(t *testing.T, pg *dbtest.PG, ttl, maxTTL time.Duration) (*testIssuer, string) {
	t.Helper()
	ctx := context.Background()
	db := pg.NewDatabase(t)
	group := dbtest.UniqueName("grp")
	admin, err := pgxpool.New(ctx, pg.ConnString(pg.SuperUser, db)+"&password="+pg.SuperPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	g := pgx.Identifier{group}.Sanitize()
	for _, stmt := range []string{"CREATE ROLE " + g + " NOLOGIN", "CREATE TABLE t (n int)", "INSERT INTO t VALUES (1), (2)", "GRANT SELECT ON t TO " + g} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() { _, _ = admin.Exec(ctx, "DROP OWNED BY "+g); _, _ = admin.Exec(ctx, "DROP ROLE "+g) })
	ti := &testIssuer{engine: "postgres", role: "app", group: group, ttl: ttl, maxTTL: maxTTL}
	ti.create = func(ctx context.Context, user, password string, until time.Time) error {
		v, err := dbserver.SCRAMSHA256Verifier(password)
		if err != nil {
			return err
		}
		_, err = admin.Exec(ctx, "CREATE ROLE "+pgx.Identifier{user}.Sanitize()+" LOGIN PASSWORD "+sqlString(v)+" VALID UNTIL "+sqlString(until.Format(time.RFC3339Nano))+" IN ROLE "+g)
		return err
	}
	ti.extend = func(ctx context.Context, user string, until time.Time) error {
		_, err := admin.Exec(ctx, "ALTER ROLE "+pgx.Identifier{user}.Sanitize()+" VALID UNTIL "+sqlString(until.Format(time.RFC3339Nano)))
		return err
	}
	ti.drop = func(ctx context.Context, user string) error {
		if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", user); err != nil {
			return err
		}
		_, err := admin.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{user}.Sanitize())
		return err
	}
	ti.doc = func(user, password string) *events.SecretDocument {
		return &events.SecretDocument{Engine: "postgres", Host: pg.Host, Port: pg.Port, DBName: db, Username: user, Password: password}
	}
	ti.start(t)
	return ti, db
}

// newMariaIssuer is newPGIssuer for MariaDB: the group is a role, granted
// to each user and made its default role.
func newMariaIssuer(t *testing.T, m *dbtest.Maria, ttl, maxTTL time.Duration) (*testIssuer, string) {
	t.Helper()
	ctx := context.Background()
	db := m.NewDatabase(t)
	group := dbtest.UniqueName("grp")
	admin := m.AdminDB(t, db)
	g := "`" + group + "`"
	for _, stmt := range []string{"CREATE ROLE " + g, "CREATE TABLE t (n int)", "INSERT INTO t VALUES (1), (2)", "GRANT SELECT ON t TO " + g} {
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() { _, _ = admin.ExecContext(ctx, "DROP ROLE "+g) })
	ti := &testIssuer{engine: "mariadb", role: "app", group: group, ttl: ttl, maxTTL: maxTTL}
	ti.create = func(ctx context.Context, user, password string, _ time.Time) error {
		acct := dbtest.UserAccount(user)
		for _, stmt := range []string{
			"CREATE USER " + acct + " IDENTIFIED BY PASSWORD " + sqlString(dbserver.NativePasswordHash(password)),
			"GRANT " + g + " TO " + acct,
			"SET DEFAULT ROLE " + g + " FOR " + acct,
		} {
			if _, err := admin.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("create lease user %q: %w", user, err)
			}
		}
		return nil
	}
	ti.extend = func(context.Context, string, time.Time) error { return nil } // MariaDB: the expiry is the reaper's record
	ti.drop = func(ctx context.Context, user string) error { return dropMariaUser(ctx, admin, user) }
	ti.doc = func(user, password string) *events.SecretDocument {
		return &events.SecretDocument{Engine: "mariadb", Host: m.Host, Port: m.Port, DBName: db, Username: user, Password: password}
	}
	ti.start(t)
	return ti, db
}

func dropMariaUser(ctx context.Context, admin *sql.DB, user string) error {
	rows, err := admin.QueryContext(ctx, "SELECT id FROM information_schema.processlist WHERE user = ?", user)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if _, err := admin.ExecContext(ctx, fmt.Sprintf("KILL %d", id)); err != nil && !strings.Contains(err.Error(), "Unknown thread") {
			return err
		}
	}
	_, err = admin.ExecContext(ctx, "DROP USER IF EXISTS "+dbtest.UserAccount(user))
	return err
}

func (ti *testIssuer) start(t *testing.T) {
	ti.leases = map[string]*issued{}
	ti.stopReaper, ti.reaperDone = make(chan struct{}), make(chan struct{})
	go ti.reap()
	t.Cleanup(func() {
		close(ti.stopReaper)
		<-ti.reaperDone
		for _, u := range ti.remaining() {
			_ = ti.drop(context.Background(), u)
		}
	})
}

// sqlString quotes s as a string literal both engines read the same way
// (the values quoted here are hex, verifiers and timestamps).
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
