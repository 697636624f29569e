package dbserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/internal/saslprep"
)

// PostgresOptions configures StartPostgres. The zero value starts a server
// that accepts password logins over TLS and without.
type PostgresOptions struct {
	// DisableTLS starts the server with ssl = off, so it refuses TLS.
	DisableTLS bool
	// RequireTLS allows only hostssl logins over TCP.
	RequireTLS bool
	// SuperUser is the bootstrap superuser's name; "postgres" if empty.
	SuperUser string
	// BinDir holds initdb and postgres; found automatically if empty.
	BinDir string
	// BaseDir is where the run directory is created; os.TempDir() if empty.
	// When running as root it must be traversable by the postgres user.
	BaseDir string
	// StartTimeout bounds initdb plus startup; 60s if zero. The context
	// passed to StartPostgres can end it sooner.
	StartTimeout time.Duration
	// Settings are extra postgresql.conf lines (name -> value, written as
	// given after "name = "), applied after rotor's own.
	Settings map[string]string
}

// Postgres is a running throwaway PostgreSQL server. Its fields describe it
// and must not be changed.
type Postgres struct {
	Host          string // "127.0.0.1"
	Port          int
	TLS           bool   // whether the server accepts TLS
	CAFile        string // the CA certificate that signed the server's; "" without TLS
	CAPEM         []byte // CAFile's contents
	SuperUser     string
	SuperPassword string
	DataDir       string
	SocketDir     string // the unix socket's directory
	LogPath       string // the server log: connections and every statement
	Dir           string // the run directory holding all of the above; removed by Stop
	BinDir        string

	proc     *process
	acct     account
	stopOnce sync.Once
	stopErr  error
}

// StartPostgres initialises a new cluster in a private temporary directory
// and starts a server for it on a free port of 127.0.0.1. It returns once the
// server accepts a superuser login, or an error with the tail of the server's
// log; on error nothing is left running.
func StartPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	if opts.DisableTLS && opts.RequireTLS {
		return nil, errors.New("start postgres: RequireTLS and DisableTLS are both set")
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	if opts.SuperUser == "" {
		opts.SuperUser = "postgres"
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	binDir, err := postgresBinDir(opts.BinDir)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	acct, err := serverAccount("postgres", "postgresql")
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	dir, err := makeRunDir(opts.BaseDir, "pg")
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	pg := &Postgres{
		Host:          "127.0.0.1",
		TLS:           !opts.DisableTLS,
		SuperUser:     opts.SuperUser,
		SuperPassword: randomPassword(),
		DataDir:       filepath.Join(dir, "data"),
		SocketDir:     dir,
		LogPath:       filepath.Join(dir, "postgres.log"),
		Dir:           dir,
		BinDir:        binDir,
		acct:          acct,
	}
	if err := pg.start(ctx, acct, opts); err != nil {
		if pg.proc != nil {
			pg.proc.stop(syscall.SIGQUIT, 5*time.Second)
		}
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	return pg, nil
}

func (pg *Postgres) start(ctx context.Context, acct account, opts PostgresOptions) error {
	var certs tlsFiles
	if pg.TLS {
		var err error
		if certs, err = writeTLS(pg.Dir, "postgres"); err != nil {
			return err
		}
		pg.CAFile, pg.CAPEM = certs.caFile, certs.caPEM
	}
	pwfile := filepath.Join(pg.Dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(pg.SuperPassword+"\n"), 0o600); err != nil {
		return fmt.Errorf("write password file: %w", err)
	}
	defer os.Remove(pwfile)
	if err := acct.chownTree(pg.Dir); err != nil {
		return fmt.Errorf("give run directory to %s: %w", acct.name, err)
	}

	initLog := filepath.Join(pg.Dir, "initdb.log")
	initdb := acct.command(pg.Dir, filepath.Join(pg.BinDir, "initdb"), []string{
		"--pgdata=" + pg.DataDir,
		"--username=" + pg.SuperUser,
		"--pwfile=" + pwfile,
		"--auth-local=scram-sha-256",
		"--auth-host=scram-sha-256",
		"--encoding=UTF8",
		"--locale=C",
		"--no-sync",
	}, syscall.SIGKILL)
	if err := runToLog(ctx, initdb, initLog); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	os.Remove(pwfile)

	if err := os.WriteFile(filepath.Join(pg.DataDir, "pg_hba.conf"), []byte(pg.hbaConf(opts.RequireTLS)), 0o600); err != nil {
		return fmt.Errorf("write pg_hba.conf: %w", err)
	}
	if err := acct.chownTree(pg.DataDir); err != nil {
		return fmt.Errorf("give data directory to %s: %w", acct.name, err)
	}

	const portAttempts = 3
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		pg.Port = port
		if err := pg.writeConf(acct, certs, opts.Settings); err != nil {
			return err
		}
		err = pg.launch(ctx, acct)
		if err == nil {
			return nil
		}
		if attempt < portAttempts && errors.Is(err, errPortTaken) {
			continue
		}
		return err
	}
}

var errPortTaken = errors.New("port taken by another process")

func (pg *Postgres) hbaConf(requireTLS bool) string {
	var b strings.Builder
	b.WriteString("# Written by rotor's dbserver: password logins only, never trust.\n")
	b.WriteString("local all all scram-sha-256\n")
	for _, cidr := range []string{"127.0.0.1/32", "::1/128"} {
		if pg.TLS {
			fmt.Fprintf(&b, "hostssl all all %s scram-sha-256\n", cidr)
		}
		if !requireTLS {
			fmt.Fprintf(&b, "host all all %s scram-sha-256\n", cidr)
		}
	}
	return b.String()
}

// writeConf writes rotor's settings to postgresql.auto.conf, which the server
// reads after postgresql.conf.
func (pg *Postgres) writeConf(acct account, certs tlsFiles, extra map[string]string) error {
	settings := [][2]string{
		{"listen_addresses", quoteConf(pg.Host)},
		{"port", strconv.Itoa(pg.Port)},
		{"unix_socket_directories", quoteConf(pg.SocketDir)},
		{"password_encryption", "'scram-sha-256'"},
		{"log_destination", "'stderr'"},
		{"logging_collector", "off"},
		{"log_statement", "'all'"},
		{"log_connections", "on"},
		{"log_line_prefix", quoteConf("%m [%p] %q%u@%d ")},
		{"fsync", "off"},
		{"synchronous_commit", "off"},
		{"full_page_writes", "off"},
		{"shared_buffers", "'16MB'"},
		{"max_connections", "100"},
	}
	if pg.TLS {
		settings = append(settings,
			[2]string{"ssl", "on"},
			[2]string{"ssl_cert_file", quoteConf(certs.certFile)},
			[2]string{"ssl_key_file", quoteConf(certs.keyFile)},
			[2]string{"ssl_ca_file", quoteConf(certs.caFile)},
		)
	} else {
		settings = append(settings, [2]string{"ssl", "off"})
	}
	names := make([]string, 0, len(extra))
	for name := range extra {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		settings = append(settings, [2]string{name, extra[name]})
	}
	var b strings.Builder
	b.WriteString("# Written by rotor's dbserver.\n")
	for _, s := range settings {
		fmt.Fprintf(&b, "%s = %s\n", s[0], s[1])
	}
	path := filepath.Join(pg.DataDir, "postgresql.auto.conf")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write postgresql.auto.conf: %w", err)
	}
	if err := acct.chownTree(path); err != nil {
		return fmt.Errorf("give postgresql.auto.conf to %s: %w", acct.name, err)
	}
	return nil
}

func quoteConf(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// launch starts the server and waits until a superuser login succeeds.
func (pg *Postgres) launch(ctx context.Context, acct account) error {
	before, _ := fileSize(pg.LogPath)
	cmd := acct.command(pg.Dir, filepath.Join(pg.BinDir, "postgres"), []string{"-D", pg.DataDir}, syscall.SIGINT)
	proc, err := startProcess(cmd, pg.LogPath)
	if err != nil {
		return err
	}
	pg.proc = proc
	var lastErr error
	for {
		if proc.exited() {
			pg.proc = nil
			logged, _ := readFrom(pg.LogPath, before)
			if strings.Contains(logged, "could not bind") || strings.Contains(logged, "already in use") {
				return errPortTaken
			}
			return fmt.Errorf("postgres exited during startup (%v)%s", proc.err, logTail(pg.LogPath))
		}
		attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pg.Connect(attemptCtx, "postgres")
		cancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready: %w (last attempt: %v)%s", ctx.Err(), lastErr, logTail(pg.LogPath))
		case <-proc.done:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop shuts the server down (fast shutdown: sessions are ended) and removes
// its run directory. It is safe to call more than once.
func (pg *Postgres) Stop() error {
	pg.stopOnce.Do(func() {
		var errs []error
		if pg.proc != nil {
			if err := pg.proc.stop(syscall.SIGINT, 30*time.Second); err != nil {
				errs = append(errs, err)
			}
		}
		if err := os.RemoveAll(pg.Dir); err != nil {
			errs = append(errs, fmt.Errorf("remove run directory: %w", err))
		}
		if err := errors.Join(errs...); err != nil {
			pg.stopErr = fmt.Errorf("stop postgres: %w", err)
		}
	})
	return pg.stopErr
}

// Halt stops the server (fast shutdown: every session ends, as in an
// operator's restart or a failover) and keeps its data directory; Resume
// starts it again. Logins are refused (nothing listens) in between.
// Halt, Resume and Restart are not safe to call concurrently with each
// other or Stop.
func (pg *Postgres) Halt() error {
	if pg.proc == nil {
		return nil
	}
	if err := pg.proc.stop(syscall.SIGINT, 30*time.Second); err != nil {
		return fmt.Errorf("halt postgres: %w", err)
	}
	pg.proc = nil
	return nil
}

// Resume starts a halted server again on the same data directory, address
// and port, and returns once a superuser login works.
func (pg *Postgres) Resume(ctx context.Context) error {
	if pg.proc != nil {
		return nil
	}
	if err := pg.launch(ctx, pg.acct); err != nil {
		return fmt.Errorf("resume postgres: %w", err)
	}
	return nil
}

// Restart is Halt then Resume.
func (pg *Postgres) Restart(ctx context.Context) error {
	if err := pg.Halt(); err != nil {
		return err
	}
	return pg.Resume(ctx)
}

// ReadLog returns the whole server log.
func (pg *Postgres) ReadLog() (string, error) { return readFrom(pg.LogPath, 0) }

// LogSize returns the current length of the server log, an offset for
// ReadLogFrom.
func (pg *Postgres) LogSize() (int64, error) { return fileSize(pg.LogPath) }

// ReadLogFrom returns what the server logged after byte offset off.
func (pg *Postgres) ReadLogFrom(off int64) (string, error) { return readFrom(pg.LogPath, off) }

// TLSConfig returns a client TLS configuration equivalent to
// sslmode=verify-full with the run's CA as sslrootcert, or nil when the
// server has no TLS.
func (pg *Postgres) TLSConfig() *tls.Config {
	if !pg.TLS {
		return nil
	}
	return verifyFullConfig(pg.CAPEM, pg.Host)
}

// ConnConfig returns a pgx configuration for user and password on database
// over TCP: TLS with verify-full against the run's CA when the server has TLS,
// plain otherwise, with no fallback to the other. Environment variables
// (PGHOST, PGSSLMODE, ...) do not affect it. The password is prepared for
// pgx as rotor's own logins prepare it (saslprep.ForPgx).
func (pg *Postgres) ConnConfig(user, password, database string) (*pgx.ConnConfig, error) {
	password, err := saslprep.ForPgx(password)
	if err != nil {
		return nil, fmt.Errorf("postgres connection config for %q: %w", user, err)
	}
	cfg, err := pgx.ParseConfig(pg.ConnString(user, database))
	if err != nil {
		return nil, fmt.Errorf("postgres connection config: %w", err)
	}
	cfg.Host = pg.Host
	cfg.Port = uint16(pg.Port)
	cfg.User = user
	cfg.Password = password
	cfg.Database = database
	cfg.TLSConfig = pg.TLSConfig()
	cfg.Fallbacks = nil
	cfg.ConnectTimeout = 10 * time.Second
	return cfg, nil
}

// ConnString returns a libpq URL for user on database, without a password:
// sslmode=verify-full with sslrootcert=CAFile when the server has TLS,
// sslmode=disable otherwise.
func (pg *Postgres) ConnString(user, database string) string {
	q := url.Values{}
	if pg.TLS {
		q.Set("sslmode", "verify-full")
		q.Set("sslrootcert", pg.CAFile)
	} else {
		q.Set("sslmode", "disable")
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(user),
		Host:     net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port)),
		Path:     "/" + database,
		RawQuery: q.Encode(),
	}
	return u.String()
}

// Connect opens a superuser connection to database.
func (pg *Postgres) Connect(ctx context.Context, database string) (*pgx.Conn, error) {
	cfg, err := pg.ConnConfig(pg.SuperUser, pg.SuperPassword, database)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres as %q: %w", pg.SuperUser, err)
	}
	return conn, nil
}

// postgresBinDir finds the directory holding initdb and postgres: dir if
// given, else pg_config --bindir, the newest /usr/lib/postgresql/*/bin, or
// the directory of initdb on PATH.
func postgresBinDir(dir string) (string, error) {
	var candidates []string
	if dir != "" {
		candidates = []string{dir}
	} else {
		if pgConfig := lookPath("pg_config"); pgConfig != "" {
			if out, err := exec.Command(pgConfig, "--bindir").Output(); err == nil {
				candidates = append(candidates, strings.TrimSpace(string(out)))
			}
		}
		versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		sort.Slice(versions, func(i, j int) bool { return pgVersion(versions[i]) > pgVersion(versions[j]) })
		candidates = append(candidates, versions...)
		if initdb := lookPath("initdb"); initdb != "" {
			candidates = append(candidates, filepath.Dir(initdb))
		}
		if len(candidates) == 0 {
			candidates = []string{"/usr/lib/postgresql/<version>/bin"}
		}
	}
	var looked []string
	for _, c := range candidates {
		looked = append(looked, c)
		initdb, err1 := findBinary("initdb", "postgresql", []string{filepath.Join(c, "initdb")})
		_, err2 := findBinary("postgres", "postgresql", []string{filepath.Join(c, "postgres")})
		if err1 == nil && err2 == nil {
			return filepath.Dir(initdb), nil
		}
	}
	return "", &MissingBinaryError{Binary: "initdb", Package: "postgresql", Looked: dedupe(looked)}
}

// pgVersion extracts the major version from /usr/lib/postgresql/<v>/bin.
func pgVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}
