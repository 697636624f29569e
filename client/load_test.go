package client_test

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rotorhq/rotor/client"
	"github.com/rotorhq/rotor/client/mysqlclient"
	"github.com/rotorhq/rotor/client/pgxclient"
	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/agent"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/internal/local/rietest"
)

// Rotations per strategy in the load proof. PostgreSQL's default is lower
// because a PostgreSQL rotation costs about ten times a MariaDB one on the
// suite's 2 cores (a forked backend per login, under the apps' load);
// -load.rotations=50 runs 50 on both engines (docs/clients.md has the
// figures of such a run).
var (
	loadRotations   = flag.Int("load.rotations", 0, "rotations per strategy on both engines in the load proof (0: the per-engine defaults)")
	defaultRotation = map[string]int{"postgres": 20, "mariadb": 50}
)

func rotationsFor(engine string) int {
	if *loadRotations > 0 {
		return *loadRotations
	}
	return defaultRotation[engine]
}

// Load proof settings. Connections live loadConnLifetime so that new
// logins happen all through every rotation (a real pool's lifetime is
// hours; what matters is that logins fall inside the rotation windows).
const (
	loadConns        = 8
	loadConnLifetime = time.Second
	loadCacheTTL     = 20 * time.Millisecond
	loadAgentPoll    = 10 * time.Millisecond
	// After a failed query an app waits this long before the next one, so
	// the naive app's stream of refused logins does not starve the rest.
	loadBackoff = 500 * time.Millisecond
	// The naive app runs through this many rotations only: it fails from
	// the first on, and its refused logins cost the server more than
	// the others' queries.
	loadNaiveRotations = 10
	// A client reading the agent's file waits at most this long for the
	// file to follow a rotation before a refused login counts as failed.
	loadFileWait = 10 * time.Second
)

// TestApplicationsKeepWorkingThroughRotations is the load proof: for each
// engine and strategy, applications query without pause through pools of
// loadConns connections while rotationsFor(engine) rotations run back to back
// through the built rotator under the Lambda emulator, driven by the
// stand-in's RotateSecret as AWS would. Asserted: no failed query for the
// client using package client (both strategies) and for the client reading
// rotor agent's file (single-user). Printed: the failures of a client that
// read the secret once at start (naive), the field's failure case.
func TestApplicationsKeepWorkingThroughRotations(t *testing.T) {
	t.Parallel()
	pg, m := dbtest.Postgres(t), dbtest.MariaDB(t)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, append(append([]byte{}, pg.CAPEM...), m.CAPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, cfg := awslocaltest.NewWith(t, awslocal.Options{RotationAttempts: 1})
	sm := secretsmanager.NewFromConfig(cfg)
	bootstrap := rietest.Build(t, "./functions/rotator")
	// One emulator per run: an emulator runs one invocation at a time, as
	// one Lambda execution environment does.
	function := func(t *testing.T, env ...string) (string, *rietest.Emulator) {
		emu := rietest.Start(t, bootstrap, append([]string{
			"AWS_ENDPOINT_URL=" + srv.URL(), "AWS_REGION=" + cfg.Region,
			"AWS_ACCESS_KEY_ID=AKIDAWSLOCAL", "AWS_SECRET_ACCESS_KEY=awslocal-secret-key", "AWS_SESSION_TOKEN=",
			"DB_CA_BUNDLE=" + bundle, "ROTATION_STRATEGY=single-user", "LOG_LEVEL=warn"}, env...)...)
		fn := srv.FunctionARN(dbtest.UniqueName("rotor-rotator"))
		srv.SetFunction(fn, &awslocal.HTTPInvoker{URL: emu.URL})
		return fn, emu
	}
	var (
		mu     sync.Mutex
		report []string
	)
	t.Cleanup(func() {
		sort.Strings(report)
		t.Logf("load proof, %d connections per pool:\n%s", loadConns, strings.Join(report, "\n"))
	})
	for _, engine := range []string{"postgres", "mariadb"} {
		for _, strategy := range []string{"single-user", "alternating-users"} {
			// One after another: in parallel, the runs' logins would slow
			// each other's, and not prove more.
			t.Run(engine+"/"+strategy, func(t *testing.T) {
				w := &loadWorld{t: t, srv: srv, sm: sm, function: function, pg: pg, m: m}
				lines := w.run(engine, strategy)
				mu.Lock()
				report = append(report, strings.Join(lines, "\n"))
				mu.Unlock()
			})
		}
	}
}

type loadWorld struct {
	t   *testing.T
	srv *awslocal.Server
	sm  *secretsmanager.Client
	// function starts the rotator under an emulator with env added and
	// registers it; run sets fn and emu from it.
	function func(t *testing.T, env ...string) (string, *rietest.Emulator)
	fn       string
	emu      *rietest.Emulator
	pg       *dbtest.PG
	m        *dbtest.Maria
}

// app is one application: a pool and the query its workers repeat.
type app struct {
	name   string
	assert bool // zero failed queries asserted
	// rotations, when not 0, stops the app after that many rotations.
	rotations int
	query     func(context.Context) error
	close     func()
	logins    atomic.Int64 // connections opened
	pending   atomic.Int64 // package client: logins that took AWSPENDING
	waits     atomic.Int64 // agent file: refused logins that waited for the file

	ok, failed atomic.Int64
	mu         sync.Mutex
	firstErr   error
	firstAt    int // rotation in flight at the first failure

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// start runs loadConns workers that repeat the query without pause until
// stop; a failed query is counted and followed by loadBackoff.
func (a *app) start(rotation *atomic.Int64) {
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	for range loadConns {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			for ctx.Err() == nil {
				err := a.query(ctx)
				switch {
				case err == nil:
					a.ok.Add(1)
				case ctx.Err() != nil:
				default:
					a.failed.Add(1)
					a.mu.Lock()
					if a.firstErr == nil {
						a.firstErr, a.firstAt = err, int(rotation.Load())
					}
					a.mu.Unlock()
					time.Sleep(loadBackoff)
				}
			}
		}()
	}
}

func (a *app) stop() {
	if a.cancel != nil {
		a.cancel()
		a.wg.Wait()
		a.cancel = nil
	}
}

func (w *loadWorld) run(engine, strategy string) []string {
	t := w.t
	arn, master := w.secret(engine, strategy)
	w.fn, w.emu = w.function(t, "ADMIN_SECRET_ARNS="+master)
	var apps []*app
	apps = append(apps, w.packageApp(engine, arn))
	if strategy == "single-user" {
		apps = append(apps, w.fileApp(engine, arn))
	}
	naive := w.naiveApp(engine, arn)
	rotations := rotationsFor(engine)
	naive.rotations = min(loadNaiveRotations, rotations)
	apps = append(apps, naive)
	defer func() {
		for _, a := range apps {
			a.stop()
			a.close()
		}
	}()

	var rotation atomic.Int64
	for _, a := range apps {
		a.start(&rotation)
	}
	started := time.Now()
	for i := range rotations {
		rotation.Store(int64(i + 1))
		if _, err := w.sm.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(w.fn)}); err != nil {
			t.Fatalf("rotation %d: RotateSecret: %v", i+1, err)
		}
		wctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		res, err := w.srv.WaitRotation(wctx, arn)
		cancel()
		if err != nil || !res.Succeeded {
			t.Fatalf("rotation %d failed at %s: %v %v\n%s", i+1, res.Step, res.Err, err, tail(w.emu.Output(), 40))
		}
		for _, a := range apps {
			if a.rotations == i+1 {
				a.stop()
			}
		}
	}
	elapsed := time.Since(started)
	// Let every app still running make a few queries against the last
	// rotation's state.
	for _, a := range apps {
		if a.rotations != 0 {
			continue
		}
		for n := a.ok.Load() + a.failed.Load(); a.ok.Load()+a.failed.Load() < n+loadConns*4; {
			time.Sleep(time.Millisecond)
		}
	}
	for _, a := range apps {
		a.stop()
	}

	lines := []string{fmt.Sprintf("%s/%s: %d rotations in %v (%v each)", engine, strategy, rotations, elapsed.Round(time.Millisecond), (elapsed / time.Duration(rotations)).Round(time.Millisecond))}
	for _, a := range apps {
		line := fmt.Sprintf("  %-34s %7d queries ok, %5d failed, %4d logins", a.name, a.ok.Load(), a.failed.Load(), a.logins.Load())
		if a.rotations != 0 {
			line += fmt.Sprintf(", over the first %d rotations", a.rotations)
		}
		if n := a.pending.Load(); n > 0 {
			line += fmt.Sprintf("; %d refused logins retried with AWSPENDING", n)
		}
		if n := a.waits.Load(); n > 0 {
			line += fmt.Sprintf("; %d refused logins waited for the file", n)
		}
		if a.failed.Load() > 0 {
			line += fmt.Sprintf("; first failure during rotation %d", a.firstAt)
		}
		lines = append(lines, line)
		if !a.assert {
			continue
		}
		if a.failed.Load() != 0 {
			t.Errorf("%s: %d failed queries (first: %v), want 0", a.name, a.failed.Load(), a.firstErr)
		}
		// The loop ran, and its pool logged in afresh during the run.
		if a.ok.Load() == 0 || a.logins.Load() <= loadConns {
			t.Errorf("%s: %d queries, %d logins; want queries and more logins than the pool's %d connections", a.name, a.ok.Load(), a.logins.Load(), loadConns)
		}
	}
	return lines
}

// secret creates the database users and the secret for one run and
// returns the secret's ARN and, for alternating-users, its admin secret's.
func (w *loadWorld) secret(engine, strategy string) (arn, master string) {
	t := w.t
	base := dbtest.UniqueName("load")
	doc := map[string]any{"engine": engine, "username": base, "password": "initial-password-1"}
	var admin map[string]any
	switch engine {
	case "postgres":
		db := w.pg.NewDatabase(t)
		doc["host"], doc["port"], doc["dbname"] = w.pg.Host, w.pg.Port, db
		w.pg.CreateRole(t, base, "initial-password-1")
		if strategy == "alternating-users" {
			name := dbtest.UniqueName("admin")
			w.pg.CreateRole(t, name, "admin-password-1", "CREATEROLE")
			admin = map[string]any{"engine": engine, "host": w.pg.Host, "port": w.pg.Port, "dbname": db, "username": name, "password": "admin-password-1"}
			t.Cleanup(func() {
				a := w.pg.AdminDB(t, db)
				id := pgx.Identifier{base + "_clone"}.Sanitize()
				a.Exec(context.Background(), "DROP OWNED BY "+id)
				a.Exec(context.Background(), "DROP ROLE IF EXISTS "+id)
			})
		}
	case "mariadb":
		doc["host"], doc["port"] = w.m.Host, w.m.Port
		w.m.CreateUser(t, base, "initial-password-1")
		if strategy == "alternating-users" {
			name := dbtest.UniqueName("admin")
			w.m.CreateUser(t, name, "admin-password-1")
			if _, err := w.m.Admin(t).ExecContext(context.Background(), "GRANT ALL PRIVILEGES ON *.* TO "+dbtest.UserAccount(name)+" WITH GRANT OPTION"); err != nil {
				t.Fatal(err)
			}
			admin = map[string]any{"engine": engine, "host": w.m.Host, "port": w.m.Port, "username": name, "password": "admin-password-1"}
			t.Cleanup(func() {
				w.m.Admin(t).ExecContext(context.Background(), "DROP USER IF EXISTS "+dbtest.UserAccount(base+"_clone"))
			})
		}
	}
	var tags []types.Tag
	if admin != nil {
		master = w.create(admin, nil)
		doc["masterarn"] = master
		tags = []types.Tag{{Key: aws.String(events.TagStrategy), Value: aws.String(strategy)}}
	}
	return w.create(doc, tags), master
}

func (w *loadWorld) create(doc map[string]any, tags []types.Tag) string {
	b, _ := json.Marshal(doc)
	out, err := w.sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(dbtest.UniqueName("load")), SecretString: aws.String(string(b)), Tags: tags})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToString(out.ARN)
}

// pgApp builds an app on a pgx pool whose new connections take their
// credentials from creds.
func (w *loadWorld) pgConfig(arn string) *pgxpool.Config {
	w.t.Helper()
	d := w.current(arn)
	cfg, err := pgxpool.ParseConfig(w.pg.ConnString("", d.DBName))
	if err != nil {
		w.t.Fatal(err)
	}
	cfg.MaxConns = loadConns
	cfg.MaxConnLifetime = loadConnLifetime
	cfg.MaxConnLifetimeJitter = loadConnLifetime / 2
	return cfg
}

func (w *loadWorld) current(arn string) *events.SecretDocument {
	w.t.Helper()
	out, err := w.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		w.t.Fatal(err)
	}
	d, err := events.ParseSecretDocument(aws.ToString(out.SecretString))
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

func pgQuery(q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) func(context.Context) error {
	return func(ctx context.Context) error {
		var n int
		return q.QueryRow(ctx, "SELECT 1").Scan(&n)
	}
}

func sqlQuery(db *sql.DB) func(context.Context) error {
	return func(ctx context.Context) error {
		var n int
		return db.QueryRowContext(ctx, "SELECT 1").Scan(&n)
	}
}

// countingConnector counts the connections a database/sql pool opens.
type countingConnector struct {
	driver.Connector
	n *atomic.Int64
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err == nil {
		c.n.Add(1)
	}
	return conn, err
}

func (w *loadWorld) sqlDB(c driver.Connector, n *atomic.Int64) *sql.DB {
	db := sql.OpenDB(countingConnector{c, n})
	db.SetMaxOpenConns(loadConns)
	db.SetMaxIdleConns(loadConns)
	db.SetConnMaxLifetime(loadConnLifetime)
	return db
}

// pendingLogins counts the cache's log lines saying a refused login made
// it take AWSPENDING: logins that fell between a single-user rotation's
// setSecret and finishSecret.
type pendingLogins struct{ n *atomic.Int64 }

func (h pendingLogins) Enabled(context.Context, slog.Level) bool { return true }
func (h pendingLogins) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h pendingLogins) WithGroup(string) slog.Handler            { return h }
func (h pendingLogins) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "using the pending version") {
		h.n.Add(1)
	}
	return nil
}

func (w *loadWorld) cache(arn string, pending *atomic.Int64) *client.Cache {
	c, err := client.New(w.sm, client.Options{SecretID: arn, TTL: loadCacheTTL, Logger: slog.New(pendingLogins{pending})})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// packageApp uses package client: pgxclient or mysqlclient.
func (w *loadWorld) packageApp(engine, arn string) *app {
	t := w.t
	a := &app{name: "package client (TTL " + loadCacheTTL.String() + ")", assert: true}
	if engine == "postgres" {
		cfg := w.pgConfig(arn)
		cfg.AfterConnect = func(context.Context, *pgx.Conn) error { a.logins.Add(1); return nil }
		p, err := pgxclient.NewPool(context.Background(), w.cache(arn, &a.pending), cfg)
		if err != nil {
			t.Fatal(err)
		}
		a.query, a.close = pgQuery(p), p.Close
		return a
	}
	c, err := mysqlclient.NewConnector(w.cache(arn, &a.pending), w.m.Config("", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	db := w.sqlDB(c, &a.logins)
	a.query, a.close = sqlQuery(db), func() { db.Close() }
	return a
}

// naiveApp reads the secret once, at start, and never again.
func (w *loadWorld) naiveApp(engine, arn string) *app {
	t := w.t
	a := &app{name: "naive (secret read once at start)"}
	d := w.current(arn)
	if engine == "postgres" {
		cfg := w.pgConfig(arn)
		cfg.ConnConfig.User, cfg.ConnConfig.Password = d.Username, d.Password
		cfg.AfterConnect = func(context.Context, *pgx.Conn) error { a.logins.Add(1); return nil }
		p, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		a.query, a.close = pgQuery(p), p.Close
		return a
	}
	c, err := mysql.NewConnector(w.m.Config(d.Username, d.Password, ""))
	if err != nil {
		t.Fatal(err)
	}
	db := w.sqlDB(c, &a.logins)
	a.query, a.close = sqlQuery(db), func() { db.Close() }
	return a
}

// fileApp reads its credentials from the file rotor agent keeps, at every
// new login; after a refused login it waits for the file to change and
// tries again (a single-user rotation's new password is in the database
// before it is AWSCURRENT, so the file is briefly behind).
func (w *loadWorld) fileApp(engine, arn string) *app {
	t := w.t
	a := &app{name: "agent file (poll " + loadAgentPoll.String() + ")", assert: true}
	path := filepath.Join(t.TempDir(), "db.json")
	ag, err := agent.New(w.sm, agent.Config{SecretID: arn, Path: path, Interval: loadAgentPoll})
	if err != nil {
		t.Fatal(err)
	}
	actx, stopAgent := context.WithCancel(context.Background())
	agentDone := make(chan error, 1)
	go func() { agentDone <- ag.Run(actx) }()
	for {
		if _, err := os.Stat(path); err == nil {
			break
		}
		select {
		case err := <-agentDone:
			t.Fatalf("agent: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	read := func() (*events.SecretDocument, []byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		d, err := events.ParseSecretDocument(string(b))
		return d, b, err
	}
	var query func(context.Context) error
	var refused func(error) bool
	var closeDB func()
	if engine == "postgres" {
		cfg := w.pgConfig(arn)
		cfg.BeforeConnect = func(_ context.Context, cc *pgx.ConnConfig) error {
			d, _, err := read()
			if err != nil {
				return err
			}
			cc.User, cc.Password = d.Username, d.Password
			return nil
		}
		cfg.AfterConnect = func(context.Context, *pgx.Conn) error { a.logins.Add(1); return nil }
		p, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		query, refused, closeDB = pgQuery(p), pgxclient.IsLoginRefused, p.Close
	} else {
		db := w.sqlDB(fileConnector{m: w.m, read: read}, &a.logins)
		query, refused, closeDB = sqlQuery(db), mysqlclient.IsLoginRefused, func() { db.Close() }
	}
	a.query = func(ctx context.Context) error {
		deadline := time.Now().Add(loadFileWait)
		for {
			_, before, err := read()
			if err != nil {
				return err
			}
			err = query(ctx)
			if err == nil || !refused(err) || time.Now().After(deadline) {
				return err
			}
			a.waits.Add(1)
			for {
				_, now, err := read()
				if err == nil && !bytes.Equal(now, before) || time.Now().After(deadline) || ctx.Err() != nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	a.close = func() {
		closeDB()
		stopAgent()
		if err := <-agentDone; err != nil {
			t.Errorf("agent: %v", err)
		}
	}
	return a
}

// fileConnector logs in to MariaDB with the credentials in the agent's file.
type fileConnector struct {
	m    *dbtest.Maria
	read func() (*events.SecretDocument, []byte, error)
}

func (f fileConnector) Connect(ctx context.Context) (driver.Conn, error) {
	d, _, err := f.read()
	if err != nil {
		return nil, err
	}
	c, err := mysql.NewConnector(f.m.Config(d.Username, d.Password, ""))
	if err != nil {
		return nil, err
	}
	return c.Connect(ctx)
}

func (fileConnector) Driver() driver.Driver { return &mysql.MySQLDriver{} }

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
