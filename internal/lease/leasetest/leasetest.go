// Package leasetest sets up what a lease test needs, on the harness's
// PostgreSQL or MariaDB: a database with a probe table, an admin user (the
// privileges docs/leases.md lists), an operator-owned group role that may
// read the probe table and create tables, the admin secret in a local
// Secrets Manager (awslocal), and a lease.Service over them. When the test
// ends, the leak sweep checks that no password reached the service's logs,
// the database server's log, or any output added with AddLeakOutput.
package leasetest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/internal/lease"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

// SyncBuffer collects log output from concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Clock is a Service's injectable time: the real time plus an offset the
// test advances (the reaper's "now" without waiting).
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now is the Clock's time (lease.Options.Now).
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }

// Advance moves the Clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// World is one test's database (PostgreSQL or MariaDB), with an admin
// secret in a local Secrets Manager, a group role holding SELECT on a probe
// table and the right to create tables, and a Service over it.
type World struct {
	t        testing.TB
	Engine   string
	Group    string
	AdminARN string
	Srv      *awslocal.Server
	SM       *secretsmanager.Client
	Logs     *SyncBuffer
	Clock    *Clock
	Svc      *lease.Service
	Pool     *x509.CertPool
	// CAFile is the database server's CA certificate (DB_CA_BUNDLE).
	CAFile string
	// Use logs in as user and reads the probe table (a privilege of the
	// group role).
	Use func(user, password string) error
	// MakeTable logs in as user and creates a table; Owner reports who
	// owns it now ("" on MariaDB, which has no owners) or an error when
	// it is gone.
	MakeTable func(user, password string) string
	Owner     func(table string) (string, error)
	// Users counts the members of the World's group whose names start
	// with prefix.
	Users     func(prefix string) int
	ServerLog func() string
	passwords []string
	outputs   map[string]string
	mu        sync.Mutex
}

// Remember adds a password to those the leak sweep looks for.
func (w *World) Remember(p string) { w.mu.Lock(); w.passwords = append(w.passwords, p); w.mu.Unlock() }

const adminPassword = "Admin-Password-Zq4"

// New sets up a World on eng ("postgres" or "mariadb") with a Service
// serving one role definition, "app" (default TTL 600 s, maximum 3600 s).
func New(t testing.TB, eng string) *World {
	t.Helper()
	w := &World{t: t, Engine: eng, Logs: &SyncBuffer{}, Clock: &Clock{}, outputs: map[string]string{}}
	w.Srv, _ = awslocaltest.New(t)
	w.SM = secretsmanager.NewFromConfig(w.Srv.SDKConfig(w.Srv.URL()))
	adminUser := dbtest.UniqueName("adm")
	w.Group = dbtest.UniqueName("grp")
	var host string
	var port int
	var dbname string
	switch eng {
	case "postgres":
		pg := dbtest.Postgres(t)
		db := pg.NewDatabase(t)
		host, port, dbname = pg.Host, pg.Port, db
		w.Pool = x509.NewCertPool()
		w.Pool.AppendCertsFromPEM(pg.CAPEM)
		w.CAFile = pg.CAFile
		pg.CreateRole(t, adminUser, adminPassword, "CREATEROLE")
		su := pg.AdminDB(t, db)
		var mu sync.Mutex
		exec := func(stmt string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			if _, err := su.Exec(context.Background(), stmt, args...); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		id := func(s string) string { return pgx.Identifier{s}.Sanitize() }
		exec("CREATE TABLE probe (x int)")
		exec("CREATE ROLE " + id(w.Group) + " NOLOGIN")
		t.Cleanup(func() { exec("DROP OWNED BY " + id(w.Group)); exec("DROP ROLE " + id(w.Group)) })
		exec("GRANT SELECT ON probe TO " + id(w.Group))
		exec("GRANT CREATE ON SCHEMA public TO " + id(w.Group))
		exec("GRANT " + id(w.Group) + " TO " + id(adminUser) + " WITH ADMIN OPTION")
		w.Use = func(user, password string) error {
			cfg, err := pg.ConnConfig(user, password, db)
			if err != nil {
				return err
			}
			c, err := pgx.ConnectConfig(context.Background(), cfg)
			if err != nil {
				return err
			}
			defer c.Close(context.Background())
			_, err = c.Exec(context.Background(), "SELECT count(*) FROM public.probe")
			return err
		}
		w.MakeTable = func(user, password string) string {
			table := dbtest.UniqueName("leased")
			c := pg.ConnectAs(t, user, password, db)
			if _, err := c.Exec(context.Background(), "CREATE TABLE public."+id(table)+" (x int)"); err != nil {
				t.Fatalf("create table as %s: %v", user, err)
			}
			return table
		}
		w.Owner = func(table string) (string, error) {
			var owner string
			mu.Lock()
			defer mu.Unlock()
			err := su.QueryRow(context.Background(), "SELECT tableowner FROM pg_tables WHERE tablename = $1", table).Scan(&owner)
			return owner, err
		}
		w.Users = func(prefix string) int {
			var n int
			mu.Lock()
			defer mu.Unlock()
			if err := su.QueryRow(context.Background(), `SELECT count(*) FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member JOIN pg_roles g ON g.oid = m.roleid
				WHERE g.rolname = $2 AND starts_with(u.rolname, $1)`, prefix, w.Group).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		off := pg.LogOffset(t)
		w.ServerLog = func() string { return pg.LogFrom(t, off) }
	case "mariadb":
		m := dbtest.MariaDB(t)
		db := m.NewDatabase(t)
		host, port, dbname = m.Host, m.Port, db
		w.Pool = x509.NewCertPool()
		w.Pool.AppendCertsFromPEM(m.CAPEM)
		w.CAFile = m.CAFile
		su := m.Admin(t)
		exec := func(stmt string, args ...any) {
			if _, err := su.ExecContext(context.Background(), stmt, args...); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		acct := dbtest.UserAccount(adminUser)
		exec("CREATE USER " + acct + " IDENTIFIED BY PASSWORD '" + mariadb.NativePasswordHash(adminPassword) + "'")
		t.Cleanup(func() { exec("DROP USER IF EXISTS " + acct) })
		// Like RDS's master user: every privilege with GRANT OPTION.
		exec("GRANT ALL PRIVILEGES ON *.* TO " + acct + " WITH GRANT OPTION")
		exec("CREATE TABLE `" + db + "`.probe (x int)")
		exec("CREATE ROLE `" + w.Group + "`")
		t.Cleanup(func() { exec("DROP ROLE IF EXISTS `" + w.Group + "`") })
		exec("GRANT SELECT, CREATE, INSERT ON `" + db + "`.* TO `" + w.Group + "`")
		exec("GRANT `" + w.Group + "` TO " + acct + " WITH ADMIN OPTION")
		w.Use = func(user, password string) error {
			c, err := m.Open(user, password, db)
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.ExecContext(context.Background(), "SELECT COUNT(*) FROM probe")
			return err
		}
		w.MakeTable = func(user, password string) string {
			table := dbtest.UniqueName("leased")
			c := m.ConnectAs(t, user, password, db)
			if _, err := c.ExecContext(context.Background(), "CREATE TABLE `"+table+"` (x int)"); err != nil {
				t.Fatalf("create table as %s: %v", user, err)
			}
			c.Close()
			return table
		}
		w.Owner = func(table string) (string, error) {
			var n int
			if err := su.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", db, table).Scan(&n); err != nil {
				return "", err
			}
			if n != 1 {
				return "", fmt.Errorf("table %s is gone", table)
			}
			return "", nil
		}
		w.Users = func(prefix string) int {
			var n int
			if err := su.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM mysql.roles_mapping WHERE Role = ? AND Host <> '' AND LEFT(User, CHAR_LENGTH(?)) = ?", w.Group, prefix, prefix).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		off := m.LogOffset(t)
		w.ServerLog = func() string { return m.LogFrom(t, off) }
	default:
		t.Fatalf("engine %q", eng)
	}
	doc, _ := json.Marshal(map[string]any{"engine": eng, "host": host, "port": port, "username": adminUser, "password": adminPassword, "dbname": dbname})
	out, err := w.SM.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(dbtest.UniqueName("admin")), SecretString: aws.String(string(doc))})
	if err != nil {
		t.Fatal(err)
	}
	w.AdminARN = aws.ToString(out.ARN)
	w.Svc = w.Service(t, fmt.Sprintf(`[{"name":"app","adminSecretArn":%q,"groupRole":%q,"defaultTtlSeconds":600,"maxTtlSeconds":3600,"engine":%q}]`, w.AdminARN, w.Group, eng))
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		w.Remember(adminPassword)
		w.mu.Lock()
		outputs := map[string]string{"lease logs": w.Logs.String(), "server log": w.ServerLog()}
		for k, v := range w.outputs {
			outputs[k] = v
		}
		passwords := append([]string(nil), w.passwords...)
		w.mu.Unlock()
		awslocaltest.CheckNoLeaks(t, w.Srv, passwords, outputs)
	})
	return w
}

// Service builds a Service from a LEASE_ROLES value, as the functions do,
// with the World's clock and logs.
func (w *World) Service(t testing.TB, roles string) *lease.Service {
	t.Helper()
	defs, err := lease.ParseDefinitions(roles, builtin.Engines(), []string{w.AdminARN})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := lease.New(lease.Options{
		Definitions:     defs,
		Secrets:         w.SM,
		AdminSecretARNs: []string{w.AdminARN},
		// A generous login timeout: TLS and SCRAM logins, many at once,
		// on a shared CI machine.
		Login:  strategies.Options{Engines: builtin.Engines(), RootCAs: w.Pool, ConnectTimeout: 30 * time.Second},
		Now:    w.Clock.Now,
		Logger: slog.New(slog.NewJSONHandler(w.Logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// Role describes one role definition over the World's admin secret and
// group.
type Role struct {
	Name               string
	DefaultTTL, MaxTTL int
}

// Roles returns a LEASE_ROLES value defining roles over the World's admin
// secret, group role and engine.
func (w *World) Roles(roles ...Role) string {
	var defs []string
	for _, r := range roles {
		defs = append(defs, fmt.Sprintf(`{"name":%q,"adminSecretArn":%q,"groupRole":%q,"defaultTtlSeconds":%d,"maxTtlSeconds":%d,"engine":%q}`,
			r.Name, w.AdminARN, w.Group, r.DefaultTTL, r.MaxTTL, w.Engine))
	}
	return "[" + strings.Join(defs, ",") + "]"
}

// AddLeakOutput adds text (a function's output, a client's log) to what
// the leak sweep checks when the test ends.
func (w *World) AddLeakOutput(name, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.outputs[name] += text
}
