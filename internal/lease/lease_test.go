package lease_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/lease"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// syncBuffer collects log output from concurrent writers.
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

// clock is the service's injectable time.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// world is one test's database (PostgreSQL or MariaDB), with an admin
// secret in a local Secrets Manager, a group role holding SELECT on a probe
// table and the right to create tables, and a Service over it.
type world struct {
	t        *testing.T
	engine   string
	group    string
	adminARN string
	srv      *awslocal.Server
	sm       *secretsmanager.Client
	logs     *syncBuffer
	clock    *clock
	svc      *lease.Service
	pool     *x509.CertPool
	// use logs in as user and reads the probe table.
	use func(user, password string) error
	// makeTable logs in as user and creates a table; owner reports who
	// owns it now ("" on MariaDB, which has no owners) or an error when
	// it is gone.
	makeTable func(user, password string) string
	owner     func(table string) (string, error)
	// users counts the server's users whose names start with prefix.
	users     func(prefix string) int
	serverLog func() string
	passwords []string
	mu        sync.Mutex
}

func (w *world) remember(p string) { w.mu.Lock(); w.passwords = append(w.passwords, p); w.mu.Unlock() }

const adminPassword = "Admin-Password-Zq4"

func newWorld(t *testing.T, eng string) *world {
	t.Helper()
	w := &world{t: t, engine: eng, logs: &syncBuffer{}, clock: &clock{}}
	w.srv, _ = awslocaltest.New(t)
	w.sm = secretsmanager.NewFromConfig(w.srv.SDKConfig(w.srv.URL()))
	adminUser := dbtest.UniqueName("adm")
	w.group = dbtest.UniqueName("grp")
	var host string
	var port int
	var dbname string
	switch eng {
	case "postgres":
		pg := dbtest.Postgres(t)
		db := pg.NewDatabase(t)
		host, port, dbname = pg.Host, pg.Port, db
		w.pool = x509.NewCertPool()
		w.pool.AppendCertsFromPEM(pg.CAPEM)
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
		exec("CREATE ROLE " + id(w.group) + " NOLOGIN")
		t.Cleanup(func() { exec("DROP OWNED BY " + id(w.group)); exec("DROP ROLE " + id(w.group)) })
		exec("GRANT SELECT ON probe TO " + id(w.group))
		exec("GRANT CREATE ON SCHEMA public TO " + id(w.group))
		exec("GRANT " + id(w.group) + " TO " + id(adminUser) + " WITH ADMIN OPTION")
		w.use = func(user, password string) error {
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
		w.makeTable = func(user, password string) string {
			table := dbtest.UniqueName("leased")
			c := pg.ConnectAs(t, user, password, db)
			if _, err := c.Exec(context.Background(), "CREATE TABLE public."+id(table)+" (x int)"); err != nil {
				t.Fatalf("create table as %s: %v", user, err)
			}
			return table
		}
		w.owner = func(table string) (string, error) {
			var owner string
			mu.Lock()
			defer mu.Unlock()
			err := su.QueryRow(context.Background(), "SELECT tableowner FROM pg_tables WHERE tablename = $1", table).Scan(&owner)
			return owner, err
		}
		w.users = func(prefix string) int {
			var n int
			mu.Lock()
			defer mu.Unlock()
			if err := su.QueryRow(context.Background(), "SELECT count(*) FROM pg_roles WHERE starts_with(rolname, $1)", prefix).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		off := pg.LogOffset(t)
		w.serverLog = func() string { return pg.LogFrom(t, off) }
	case "mariadb":
		m := dbtest.MariaDB(t)
		db := m.NewDatabase(t)
		host, port, dbname = m.Host, m.Port, db
		w.pool = x509.NewCertPool()
		w.pool.AppendCertsFromPEM(m.CAPEM)
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
		exec("CREATE ROLE `" + w.group + "`")
		t.Cleanup(func() { exec("DROP ROLE IF EXISTS `" + w.group + "`") })
		exec("GRANT SELECT, CREATE, INSERT ON `" + db + "`.* TO `" + w.group + "`")
		exec("GRANT `" + w.group + "` TO " + acct + " WITH ADMIN OPTION")
		w.use = func(user, password string) error {
			c, err := m.Open(user, password, db)
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.ExecContext(context.Background(), "SELECT COUNT(*) FROM probe")
			return err
		}
		w.makeTable = func(user, password string) string {
			table := dbtest.UniqueName("leased")
			c := m.ConnectAs(t, user, password, db)
			if _, err := c.ExecContext(context.Background(), "CREATE TABLE `"+table+"` (x int)"); err != nil {
				t.Fatalf("create table as %s: %v", user, err)
			}
			c.Close()
			return table
		}
		w.owner = func(table string) (string, error) {
			var n int
			if err := su.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", db, table).Scan(&n); err != nil {
				return "", err
			}
			if n != 1 {
				return "", fmt.Errorf("table %s is gone", table)
			}
			return "", nil
		}
		w.users = func(prefix string) int {
			var n int
			if err := su.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM mysql.user WHERE LEFT(User, CHAR_LENGTH(?)) = ?", prefix, prefix).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		off := m.LogOffset(t)
		w.serverLog = func() string { return m.LogFrom(t, off) }
	default:
		t.Fatalf("engine %q", eng)
	}
	doc, _ := json.Marshal(map[string]any{"engine": eng, "host": host, "port": port, "username": adminUser, "password": adminPassword, "dbname": dbname})
	out, err := w.sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(dbtest.UniqueName("admin")), SecretString: aws.String(string(doc))})
	if err != nil {
		t.Fatal(err)
	}
	w.adminARN = aws.ToString(out.ARN)
	w.svc = w.service(t, fmt.Sprintf(`[{"name":"app","adminSecretArn":%q,"groupRole":%q,"defaultTtlSeconds":600,"maxTtlSeconds":3600,"engine":%q}]`, w.adminARN, w.group, eng))
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		w.remember(adminPassword)
		awslocaltest.CheckNoLeaks(t, w.srv, w.passwords, map[string]string{"lease logs": w.logs.String(), "server log": w.serverLog()})
	})
	return w
}

// service builds a Service from a LEASE_ROLES value, as the functions do.
func (w *world) service(t *testing.T, roles string) *lease.Service {
	t.Helper()
	defs, err := lease.ParseDefinitions(roles, builtin.Engines(), []string{w.adminARN})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := lease.New(lease.Options{
		Definitions:     defs,
		Secrets:         w.sm,
		AdminSecretARNs: []string{w.adminARN},
		Login:           strategies.Options{Engines: builtin.Engines(), RootCAs: w.pool},
		Now:             w.clock.now,
		Logger:          slog.New(slog.NewJSONHandler(w.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func (w *world) issue(ttl int) events.Lease {
	w.t.Helper()
	l, err := w.svc.Handle(context.Background(), events.LeaseRequest{Role: "app", TTLSeconds: ttl})
	if err != nil {
		w.t.Fatalf("issue: %v", err)
	}
	w.remember(l.Credentials.Password)
	return l
}

func errType(err error) string {
	var le *lease.Error
	if errors.As(err, &le) {
		return le.ErrorType()
	}
	return ""
}

var engines = []string{"postgres", "mariadb"}

// TestLeaseLifecycle issues, uses, renews, refuses, revokes and reaps
// leases on both engines.
func TestLeaseLifecycle(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, eng)
			ctx := context.Background()
			l := w.issue(0)
			c := l.Credentials
			if !strings.HasPrefix(c.Username, "v_app_") || c.Engine != eng || c.DBName == "" || c.Password == "" {
				t.Fatalf("lease %s: credentials %s@%s:%d/%s", l, c.Username, c.Host, c.Port, c.DBName)
			}
			if got := l.ExpiresAt.Sub(l.IssuedAt); got != 600*time.Second || l.MaxExpiresAt.Sub(l.IssuedAt) != time.Hour {
				t.Fatalf("lease %s: ttl %s", l, got)
			}
			if err := w.use(c.Username, c.Password); err != nil {
				t.Fatalf("the lease cannot use its group's grants: %v", err)
			}

			renew := events.LeaseRequest{Action: events.LeaseRenew, Role: "app", Username: c.Username, Password: c.Password, TTLSeconds: 1200}
			wrong := renew
			wrong.Password = "Not-The-Password-1"
			_, err := w.svc.Handle(ctx, wrong)
			ghost := renew
			ghost.Username = strings.TrimSuffix(c.Username, c.Username[len(c.Username)-3:]) + "zzz"
			_, errGhost := w.svc.Handle(ctx, ghost)
			if errType(err) != lease.TypeDenied || errType(errGhost) != lease.TypeDenied || err.Error() != errGhost.Error() {
				t.Fatalf("wrong password: %v; unknown user: %v; want the same LeaseDenied", err, errGhost)
			}
			w.clock.advance(5 * time.Minute)
			r, err := w.svc.Handle(ctx, renew)
			if d := r.ExpiresAt.Sub(l.IssuedAt); err != nil || !r.IssuedAt.Equal(l.IssuedAt) || d < 24*time.Minute || d > 26*time.Minute {
				t.Fatalf("renew: %s, %v; want expiry about %s", r, err, l.IssuedAt.Add(25*time.Minute))
			}
			// Renewal stops at issue + maxTtlSeconds.
			w.clock.advance(15 * time.Minute)
			renew.TTLSeconds = 3000
			if r, err = w.svc.Handle(ctx, renew); err != nil || !r.ExpiresAt.Equal(l.MaxExpiresAt) {
				t.Fatalf("renew near the maximum: %s, %v; want expiry %s", r, err, l.MaxExpiresAt)
			}
			over := renew
			over.TTLSeconds = 3601
			if _, err := w.svc.Handle(ctx, over); errType(err) != lease.TypeInvalid || !strings.Contains(err.Error(), "ttlSeconds") || !strings.Contains(err.Error(), "3600") {
				t.Fatalf("renew over the maximum: %v", err)
			}
			if _, err := w.svc.Handle(ctx, events.LeaseRequest{Role: "app", TTLSeconds: 7200}); errType(err) != lease.TypeInvalid || !strings.Contains(err.Error(), "ttlSeconds") || !strings.Contains(err.Error(), "maximum of 3600") {
				t.Fatalf("issue over the maximum: %v", err)
			}
			if _, err := w.svc.Handle(ctx, events.LeaseRequest{Role: "nosuch"}); errType(err) != lease.TypeInvalid || !strings.Contains(err.Error(), `"nosuch"`) {
				t.Fatalf("unknown role definition: %v", err)
			}

			// Revoke: the user is gone at once.
			if _, err := w.svc.Handle(ctx, events.LeaseRequest{Action: events.LeaseRevoke, Role: "app", Username: c.Username, Password: "Not-The-Password-1"}); errType(err) != lease.TypeDenied {
				t.Fatalf("revoke without the password: %v", err)
			}
			v, err := w.svc.Handle(ctx, events.LeaseRequest{Action: events.LeaseRevoke, Role: "app", Username: c.Username, Password: c.Password})
			if err != nil || !v.Revoked || v.Credentials != nil {
				t.Fatalf("revoke: %+v, %v", v, err)
			}
			if err := w.use(c.Username, c.Password); err == nil {
				t.Fatal("a revoked lease still logs in")
			}
			if _, err := w.svc.Handle(ctx, renew); errType(err) != lease.TypeDenied {
				t.Fatalf("renew after revoke: %v", err)
			}

			// Reap: an expired lease with a session open and a table of
			// its own is dropped; the table is kept, now the group's.
			live := w.issue(3600)
			dead := w.issue(60)
			table := w.makeTable(dead.Credentials.Username, dead.Credentials.Password)
			if rep := w.svc.Reap(ctx); rep.Reaped != 0 || len(rep.Failures) != 0 || rep.Checked != 2 {
				t.Fatalf("reap before expiry: %+v", rep)
			}
			w.clock.advance(2 * time.Minute)
			if _, err := w.svc.Handle(ctx, events.LeaseRequest{Action: events.LeaseRenew, Role: "app", Username: dead.Credentials.Username, Password: dead.Credentials.Password}); errType(err) != lease.TypeDenied {
				t.Fatalf("renew of an expired lease: %v", err)
			}
			if rep := w.svc.Reap(ctx); rep.Reaped != 1 || len(rep.Failures) != 0 {
				t.Fatalf("reap after expiry: %+v", rep)
			}
			if err := w.use(dead.Credentials.Username, dead.Credentials.Password); err == nil {
				t.Fatal("a reaped lease still logs in")
			}
			owner, err := w.owner(table)
			if err != nil || (eng == "postgres" && owner != w.group) {
				t.Fatalf("the reaped user's table: owner %q, %v; want it kept, owned by %q", owner, err, w.group)
			}
			if err := w.use(live.Credentials.Username, live.Credentials.Password); err != nil {
				t.Fatalf("the reaper touched a live lease: %v", err)
			}
			if rep := w.svc.Reap(ctx); rep.Reaped != 0 || len(rep.Failures) != 0 {
				t.Fatalf("second reap: %+v", rep)
			}
			w.clock.advance(2 * time.Hour)
			if rep := w.svc.Reap(ctx); rep.Reaped != 1 || len(rep.Failures) != 0 {
				t.Fatalf("last reap: %+v", rep)
			}
			if n := w.users("v_app_"); n != 0 {
				t.Fatalf("%d lease users left after the last reap", n)
			}
		})
	}
}

// TestConcurrentIssue issues 100 leases, 16 at a time, on both engines:
// all distinct, all working.
func TestConcurrentIssue(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, eng)
			const n, inFlight = 100, 16
			leases := make([]events.Lease, n)
			errs := make([]error, n)
			sem := make(chan struct{}, inFlight)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					leases[i], errs[i] = w.svc.Handle(context.Background(), events.LeaseRequest{Role: "app"})
				}()
			}
			wg.Wait()
			seen := map[string]bool{}
			for i, l := range leases {
				if errs[i] != nil {
					t.Fatalf("issue %d: %v", i, errs[i])
				}
				w.remember(l.Credentials.Password)
				if seen[l.Credentials.Username] || seen[l.Credentials.Password] {
					t.Fatalf("issue %d repeats a user name or password", i)
				}
				seen[l.Credentials.Username], seen[l.Credentials.Password] = true, true
			}
			for i, l := range leases {
				if err := w.use(l.Credentials.Username, l.Credentials.Password); err != nil {
					t.Fatalf("lease %d: %v", i, err)
				}
			}
			w.clock.advance(time.Hour)
			if rep := w.svc.Reap(context.Background()); rep.Reaped != n || len(rep.Failures) != 0 {
				t.Fatalf("reap: %+v", rep)
			}
		})
	}
}

// TestAdminRotatedWhileLeasesOutstanding rotates the admin secret with
// rotor's rotator (single-user) while a lease is out: the service, which
// cached the old admin password, logs in again with the new one, renews the
// old lease and issues new ones.
func TestAdminRotatedWhileLeasesOutstanding(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, eng)
			ctx := context.Background()
			old := w.issue(0)
			rot, err := rotation.New(rotation.Options{
				Secrets: w.sm,
				Strategies: func(name string) (strategies.Strategy, error) {
					return strategies.New(name, strategies.Options{Engines: builtin.Engines(), RootCAs: w.pool})
				},
				DefaultStrategy: strategies.NameSingleUser,
				Password:        rotation.DefaultPasswordPolicy(),
				Logger:          slog.New(slog.NewJSONHandler(w.logs, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			fn := w.srv.FunctionARN("rotor-rotator")
			w.srv.SetFunction(fn, awslocal.FuncInvoker(rot.Handle))
			if _, err := w.sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(w.adminARN), RotationLambdaARN: aws.String(fn),
				RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}}); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if res, err := w.srv.WaitRotation(wctx, w.adminARN); err != nil || !res.Succeeded {
				t.Fatalf("rotate the admin secret: %+v, %v", res, err)
			}
			next := w.issue(0)
			if err := w.use(next.Credentials.Username, next.Credentials.Password); err != nil {
				t.Fatalf("lease issued after the admin rotation: %v", err)
			}
			if _, err := w.svc.Handle(ctx, events.LeaseRequest{Action: events.LeaseRenew, Role: "app", Username: old.Credentials.Username, Password: old.Credentials.Password}); err != nil {
				t.Fatalf("renew a lease issued before the admin rotation: %v", err)
			}
			if err := w.use(old.Credentials.Username, old.Credentials.Password); err != nil {
				t.Fatalf("lease issued before the admin rotation: %v", err)
			}
			if !strings.Contains(w.logs.String(), "lease request served") {
				t.Fatal("no request was logged")
			}
		})
	}
}
