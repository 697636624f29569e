package dbserver

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MariaDBOptions configures StartMariaDB. The zero value starts a server that
// accepts password logins over TLS and without.
type MariaDBOptions struct {
	// DisableTLS starts the server without TLS, so it refuses TLS.
	DisableTLS bool
	// RequireTLS sets require_secure_transport, refusing plain TCP logins.
	RequireTLS bool
	// BinDir holds mariadbd and mariadb-install-db; found on PATH, in
	// /usr/sbin and /usr/bin if empty.
	BinDir string
	// BaseDir is where the run directory is created; os.TempDir() if empty.
	// When running as root it must be traversable by the mysql user.
	BaseDir string
	// StartTimeout bounds mariadb-install-db plus startup; 60s if zero. The
	// context passed to StartMariaDB can end it sooner.
	StartTimeout time.Duration
	// Args are extra mariadbd options ("--name=value"), after rotor's own.
	Args []string
}

// MariaDB is a running throwaway MariaDB server. Its fields describe it and
// must not be changed.
type MariaDB struct {
	Host          string // "127.0.0.1"
	Port          int
	TLS           bool   // whether the server accepts TLS
	CAFile        string // the CA certificate that signed the server's; "" without TLS
	CAPEM         []byte // CAFile's contents
	SuperUser     string // "root", allowed from 127.0.0.1, ::1 and the socket
	SuperPassword string
	DataDir       string
	Socket        string // the unix socket
	LogPath       string // the general query log: connections and every statement
	ErrorLogPath  string // the server's error log
	Dir           string // the run directory holding all of the above; removed by Stop

	proc     *process
	stopOnce sync.Once
	stopErr  error
	// relaunch starts mariadbd again as the first start did (Restart).
	relaunch func(ctx context.Context) error
	// rootPassword is set once root has SuperPassword: the socket login
	// that tells the server is ready needs it from then on.
	rootPassword bool
}

// StartMariaDB initialises a new data directory in a private temporary
// directory and starts mariadbd for it on a free port of 127.0.0.1, with the
// general query log on and a generated root password. It returns once root
// can log in over TCP, or an error with the tail of the server's error log;
// on error nothing is left running.
func StartMariaDB(ctx context.Context, opts MariaDBOptions) (*MariaDB, error) {
	if opts.DisableTLS && opts.RequireTLS {
		return nil, errors.New("start mariadb: RequireTLS and DisableTLS are both set")
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	serverDirs, installDirs := []string{"", "/usr/sbin", "/usr/libexec"}, []string{"", "/usr/bin"}
	if opts.BinDir != "" {
		serverDirs, installDirs = []string{opts.BinDir}, []string{opts.BinDir}
	}
	mariadbd, err := findBinary("mariadbd", "mariadb-server", binCandidates("mariadbd", serverDirs))
	if err != nil {
		return nil, fmt.Errorf("start mariadb: %w", err)
	}
	installDB, err := findBinary("mariadb-install-db", "mariadb-server", binCandidates("mariadb-install-db", installDirs))
	if err != nil {
		return nil, fmt.Errorf("start mariadb: %w", err)
	}
	acct, err := serverAccount("mysql", "mariadb-server")
	if err != nil {
		return nil, fmt.Errorf("start mariadb: %w", err)
	}
	dir, err := makeRunDir(opts.BaseDir, "mariadb")
	if err != nil {
		return nil, fmt.Errorf("start mariadb: %w", err)
	}
	m := &MariaDB{
		Host:          "127.0.0.1",
		TLS:           !opts.DisableTLS,
		SuperUser:     "root",
		SuperPassword: randomPassword(),
		DataDir:       filepath.Join(dir, "data"),
		Socket:        filepath.Join(dir, "mariadb.sock"),
		LogPath:       filepath.Join(dir, "general.log"),
		ErrorLogPath:  filepath.Join(dir, "error.log"),
		Dir:           dir,
	}
	if err := m.start(ctx, acct, mariadbd, installDB, opts); err != nil {
		if m.proc != nil {
			m.proc.stop(syscall.SIGKILL, 5*time.Second)
		}
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start mariadb: %w", err)
	}
	return m, nil
}

func (m *MariaDB) start(ctx context.Context, acct account, mariadbd, installDB string, opts MariaDBOptions) error {
	var certs tlsFiles
	if m.TLS {
		var err error
		if certs, err = writeTLS(m.Dir, "mariadb"); err != nil {
			return err
		}
		m.CAFile, m.CAPEM = certs.caFile, certs.caPEM
	}
	// Created here so that the log is readable even if the server's umask
	// would make it private.
	if err := os.WriteFile(m.LogPath, nil, 0o644); err != nil {
		return fmt.Errorf("create general log: %w", err)
	}
	if err := acct.chownTree(m.Dir); err != nil {
		return fmt.Errorf("give run directory to %s: %w", acct.name, err)
	}

	install := acct.command(m.Dir, installDB, []string{
		"--no-defaults",
		"--datadir=" + m.DataDir,
		"--auth-root-authentication-method=normal",
		"--skip-test-db",
		"--skip-name-resolve",
		// The bootstrap server removes stray temporary tables from its
		// tmpdir at start: a shared /tmp would let concurrent bootstraps
		// delete each other's.
		"--tmpdir=" + m.Dir,
	}, syscall.SIGKILL)
	if err := runToLog(ctx, install, filepath.Join(m.Dir, "install-db.log")); err != nil {
		return fmt.Errorf("mariadb-install-db: %w", err)
	}

	const portAttempts = 3
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		m.Port = port
		err = m.launch(ctx, acct, mariadbd, certs, opts)
		if err == nil {
			m.relaunch = func(ctx context.Context) error { return m.launch(ctx, acct, mariadbd, certs, opts) }
			break
		}
		if attempt < portAttempts && errors.Is(err, errPortTaken) {
			continue
		}
		return err
	}
	if err := m.setRootPassword(ctx); err != nil {
		return err
	}
	db, err := m.Connect(ctx, "")
	if err != nil {
		return fmt.Errorf("log in over TCP after setting the root password: %w%s", err, logTail(m.ErrorLogPath))
	}
	db.Close()
	return nil
}

func (m *MariaDB) launch(ctx context.Context, acct account, mariadbd string, certs tlsFiles, opts MariaDBOptions) error {
	args := []string{
		"--no-defaults", // must come first
		"--datadir=" + m.DataDir,
		"--socket=" + m.Socket,
		"--port=" + strconv.Itoa(m.Port),
		"--bind-address=" + m.Host,
		"--pid-file=" + filepath.Join(m.Dir, "mariadbd.pid"),
		"--tmpdir=" + m.Dir,
		"--log-error=" + m.ErrorLogPath,
		"--general-log=ON",
		"--general-log-file=" + m.LogPath,
		"--log-output=FILE",
		"--skip-name-resolve",
		"--innodb-buffer-pool-size=16M",
		"--innodb-log-file-size=16M",
		"--innodb-flush-log-at-trx-commit=0",
		"--innodb-doublewrite=0",
		"--skip-log-bin",
	}
	if m.TLS {
		args = append(args,
			"--ssl-ca="+certs.caFile,
			"--ssl-cert="+certs.certFile,
			"--ssl-key="+certs.keyFile,
		)
	} else {
		args = append(args, "--skip-ssl")
	}
	if opts.RequireTLS {
		args = append(args, "--require-secure-transport=ON")
	}
	args = append(args, opts.Args...)

	before, _ := fileSize(m.ErrorLogPath)
	cmd := acct.command(m.Dir, mariadbd, args, syscall.SIGTERM)
	// The error log gets what the server writes before it opens --log-error.
	proc, err := startProcess(cmd, m.ErrorLogPath)
	if err != nil {
		return err
	}
	m.proc = proc
	var lastErr error
	for {
		if proc.exited() {
			m.proc = nil
			logged, _ := readFrom(m.ErrorLogPath, before)
			if strings.Contains(logged, "Address already in use") || strings.Contains(logged, "Can't start server: Bind") {
				return errPortTaken
			}
			return fmt.Errorf("mariadbd exited during startup (%v)%s", proc.err, logTail(m.ErrorLogPath))
		}
		// Until the root password is set, root logs in through the socket
		// without one.
		attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := m.pingSocket(attemptCtx)
		cancel()
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("mariadb not ready: %w (last attempt: %v)%s", ctx.Err(), lastErr, logTail(m.ErrorLogPath))
		case <-proc.done:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (m *MariaDB) socketConfig(password string) *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.User = m.SuperUser
	cfg.Passwd = password
	cfg.Net = "unix"
	cfg.Addr = m.Socket
	cfg.Timeout = 2 * time.Second
	return cfg
}

func (m *MariaDB) pingSocket(ctx context.Context) error {
	password := ""
	if m.rootPassword {
		password = m.SuperPassword
	}
	connector, err := mysql.NewConnector(m.socketConfig(password))
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	return db.PingContext(ctx)
}

// binCandidates lists where to look for name: in each of dirs, where ""
// stands for PATH.
func binCandidates(name string, dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if d == "" {
			out = append(out, lookPath(name))
		} else {
			out = append(out, filepath.Join(d, name))
		}
	}
	return out
}

// rootHosts are the hosts root may log in from. --skip-name-resolve means
// "localhost" matches only the socket, and accounts for host names (such as
// the one mariadb-install-db creates for this machine's name) never match.
var rootHosts = []string{"localhost", "127.0.0.1", "::1"}

// setRootPassword gives root the generated password, sent as a
// mysql_native_password hash, on exactly the accounts in rootHosts.
func (m *MariaDB) setRootPassword(ctx context.Context) error {
	connector, err := mysql.NewConnector(m.socketConfig(""))
	if err != nil {
		return fmt.Errorf("set root password: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("set root password: connect through the socket: %w", err)
	}
	defer conn.Close()

	quoted := make([]string, len(rootHosts))
	for i, h := range rootHosts {
		quoted[i] = quoteMySQLString(h)
	}
	keep := strings.Join(quoted, ", ")
	// Accounts that never match under --skip-name-resolve cannot be dropped
	// with DROP USER; remove their rows instead.
	stmts := []string{
		"DELETE FROM mysql.global_priv WHERE User = 'root' AND Host NOT IN (" + keep + ")",
		"DELETE FROM mysql.proxies_priv WHERE User = 'root' AND Host NOT IN (" + keep + ")",
		"FLUSH PRIVILEGES",
	}
	hash := quoteMySQLString(NativePasswordHash(m.SuperPassword))
	// localhost goes last: this session's account getting a password does not
	// affect the open session, but keep the order obvious.
	for _, h := range []string{"127.0.0.1", "::1", "localhost"} {
		stmts = append(stmts,
			"CREATE USER IF NOT EXISTS 'root'@"+quoteMySQLString(h)+" IDENTIFIED BY PASSWORD "+hash,
			"ALTER USER 'root'@"+quoteMySQLString(h)+" IDENTIFIED BY PASSWORD "+hash,
			"GRANT ALL PRIVILEGES ON *.* TO 'root'@"+quoteMySQLString(h)+" WITH GRANT OPTION",
		)
	}
	for _, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			// The statement holds a hash, never the password; still, name
			// only its start.
			return fmt.Errorf("set root password: %s: %w", strings.SplitN(stmt, " IDENTIFIED", 2)[0], err)
		}
	}
	m.rootPassword = true
	return nil
}

// quoteMySQLString quotes s as a MariaDB string literal, for the default
// sql_mode (backslash is an escape character).
func quoteMySQLString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`, "\n", `\n`, "\r", `\r`, "\x1a", `\Z`)
	return "'" + r.Replace(s) + "'"
}

// Halt shuts the server down (every session ends, as in an operator's
// restart or a failover) and keeps its data directory; Resume starts it
// again. Logins are refused (nothing listens) in between. Halt, Resume and
// Restart are not safe to call concurrently with each other or Stop.
func (m *MariaDB) Halt() error {
	if m.proc == nil {
		return nil
	}
	if err := m.proc.stop(syscall.SIGTERM, 30*time.Second); err != nil {
		return fmt.Errorf("halt mariadb: %w", err)
	}
	m.proc = nil
	return nil
}

// Resume starts a halted server again on the same data directory, address
// and port, and returns once root can log in.
func (m *MariaDB) Resume(ctx context.Context) error {
	if m.proc != nil {
		return nil
	}
	if err := m.relaunch(ctx); err != nil {
		return fmt.Errorf("resume mariadb: %w", err)
	}
	return nil
}

// Restart is Halt then Resume.
func (m *MariaDB) Restart(ctx context.Context) error {
	if err := m.Halt(); err != nil {
		return err
	}
	return m.Resume(ctx)
}

// Stop shuts the server down and removes its run directory. It is safe to
// call more than once.
func (m *MariaDB) Stop() error {
	m.stopOnce.Do(func() {
		var errs []error
		if m.proc != nil {
			if err := m.proc.stop(syscall.SIGTERM, 30*time.Second); err != nil {
				errs = append(errs, err)
			}
		}
		if err := os.RemoveAll(m.Dir); err != nil {
			errs = append(errs, fmt.Errorf("remove run directory: %w", err))
		}
		if err := errors.Join(errs...); err != nil {
			m.stopErr = fmt.Errorf("stop mariadb: %w", err)
		}
	})
	return m.stopErr
}

// ReadLog returns the whole general query log.
func (m *MariaDB) ReadLog() (string, error) { return readFrom(m.LogPath, 0) }

// LogSize returns the current length of the general query log, an offset
// for ReadLogFrom.
func (m *MariaDB) LogSize() (int64, error) { return fileSize(m.LogPath) }

// ReadLogFrom returns what the general query log got after byte offset off.
func (m *MariaDB) ReadLogFrom(off int64) (string, error) { return readFrom(m.LogPath, off) }

// TLSConfig returns a client TLS configuration that verifies the server
// certificate against the run's CA and checks it names Host, or nil when the
// server has no TLS.
func (m *MariaDB) TLSConfig() *tls.Config {
	if !m.TLS {
		return nil
	}
	return verifyFullConfig(m.CAPEM, m.Host)
}

// Config returns a go-sql-driver configuration for user and password on
// database ("" for none) over TCP: TLS verified against the run's CA when the
// server has TLS, plain otherwise.
func (m *MariaDB) Config(user, password, database string) *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.User = user
	cfg.Passwd = password
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
	cfg.DBName = database
	cfg.TLS = m.TLSConfig()
	cfg.Timeout = 10 * time.Second
	return cfg
}

// Open returns a *sql.DB for user and password on database, built from
// Config. Like sql.Open it does not connect; use PingContext for that.
func (m *MariaDB) Open(user, password, database string) (*sql.DB, error) {
	connector, err := mysql.NewConnector(m.Config(user, password, database))
	if err != nil {
		return nil, fmt.Errorf("mariadb connector for %q: %w", user, err)
	}
	return sql.OpenDB(connector), nil
}

// Connect opens a root connection pool on database ("" for none) and checks
// that root can log in.
func (m *MariaDB) Connect(ctx context.Context, database string) (*sql.DB, error) {
	db, err := m.Open(m.SuperUser, m.SuperPassword, database)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to mariadb as %q: %w", m.SuperUser, err)
	}
	return db, nil
}
