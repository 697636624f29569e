package dbserver_test

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rotorhq/rotor/internal/local/dbserver"
)

func startMariaDB(t *testing.T, opts dbserver.MariaDBOptions) *dbserver.MariaDB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := dbserver.StartMariaDB(ctx, opts)
	if err != nil {
		t.Fatalf("StartMariaDB: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return m
}

// mariaConnect logs in and returns a single connection, so that session
// state (such as Ssl_cipher) belongs to the login under test.
func mariaConnect(t *testing.T, m *dbserver.MariaDB, user, password string, mutate func(*mysql.Config)) (*sql.Conn, error) {
	t.Helper()
	cfg := m.Config(user, password, "")
	if mutate != nil {
		mutate(cfg)
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatalf("NewConnector: %v", err)
	}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { conn.Close() })
	return conn, nil
}

func mysqlErrorNumber(err error) uint16 {
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		return myErr.Number
	}
	return 0
}

// errAccessDenied is ER_ACCESS_DENIED_ERROR.
const errAccessDenied = 1045

func TestMariaDB(t *testing.T) {
	t.Parallel()
	m := startMariaDB(t, dbserver.MariaDBOptions{})
	ctx := context.Background()

	admin, err := m.Connect(ctx, "")
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	const appPassword = "s3cret-Pa55word_!"
	if _, err := admin.ExecContext(ctx, "CREATE USER 'app'@'%' IDENTIFIED BY PASSWORD '"+dbserver.NativePasswordHash(appPassword)+"'"); err != nil {
		t.Fatalf("create user app: %v", err)
	}

	tests := []struct {
		name      string
		user      string
		password  string
		mutate    func(*mysql.Config)
		wantErrNo uint16 // 0 means the login succeeds
		wantErr   string // a substring of the error, for errors without a number
	}{
		{name: "root with right password", user: m.SuperUser, password: m.SuperPassword},
		{name: "root with wrong password", user: m.SuperUser, password: "wrong", wantErrNo: errAccessDenied},
		{name: "root with empty password", user: m.SuperUser, password: "", wantErrNo: errAccessDenied},
		{name: "user from hash", user: "app", password: appPassword},
		{name: "user from hash, wrong password", user: "app", password: appPassword + "x", wantErrNo: errAccessDenied},
		{name: "without TLS", user: m.SuperUser, password: m.SuperPassword, mutate: func(c *mysql.Config) { c.TLS = nil }},
		{
			name: "TLS against the system roots instead of the run's CA", user: m.SuperUser, password: m.SuperPassword,
			mutate:  func(c *mysql.Config) { c.TLS = &tls.Config{ServerName: m.Host} },
			wantErr: "certificate",
		},
		{
			name: "TLS for a name the certificate does not hold", user: m.SuperUser, password: m.SuperPassword,
			mutate:  func(c *mysql.Config) { c.TLS.ServerName = "db.example.com" },
			wantErr: "certificate",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn, err := mariaConnect(t, m, tc.user, tc.password, tc.mutate)
			switch {
			case tc.wantErrNo == 0 && tc.wantErr == "":
				if err != nil {
					t.Fatalf("login as %s: %v", tc.user, err)
				}
			case err == nil:
				t.Fatalf("login as %s succeeded, want it refused", tc.user)
			case tc.wantErrNo != 0 && mysqlErrorNumber(err) != tc.wantErrNo:
				t.Fatalf("login as %s: got %v, want error %d", tc.user, err, tc.wantErrNo)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("login as %s: got %v, want an error mentioning %q", tc.user, err, tc.wantErr)
			}
			if err != nil {
				for _, pw := range []string{m.SuperPassword, appPassword} {
					if strings.Contains(err.Error(), pw) {
						t.Errorf("error text contains a password: %v", err)
					}
				}
				return
			}
			var name, cipher string
			if err := conn.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
				t.Fatalf("query Ssl_cipher: %v", err)
			}
			wantTLS := tc.mutate == nil // every case that changes the config here turns TLS off
			if gotTLS := cipher != ""; gotTLS != wantTLS {
				t.Errorf("session TLS = %v (cipher %q), want %v", gotTLS, cipher, wantTLS)
			}
		})
	}

	t.Run("general log shows statements and connections", func(t *testing.T) {
		off, err := m.LogSize()
		if err != nil {
			t.Fatalf("LogSize: %v", err)
		}
		conn, err := mariaConnect(t, m, m.SuperUser, m.SuperPassword, nil)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		if _, err := conn.ExecContext(ctx, "SELECT 'dbserver-log-marker'"); err != nil {
			t.Fatalf("run marker statement: %v", err)
		}
		logged, err := m.ReadLogFrom(off)
		if err != nil {
			t.Fatalf("ReadLogFrom: %v", err)
		}
		for _, want := range []string{"SELECT 'dbserver-log-marker'", "root@127.0.0.1 on  using SSL/TLS"} {
			if !strings.Contains(logged, want) {
				t.Errorf("general log since offset %d lacks %q:\n%s", off, want, logged)
			}
		}
		whole, err := m.ReadLog()
		if err != nil {
			t.Fatalf("ReadLog: %v", err)
		}
		for name, pw := range map[string]string{"root": m.SuperPassword, "app": appPassword} {
			if strings.Contains(whole, pw) {
				t.Errorf("general log contains the %s password", name)
			}
		}
		t.Logf("general log since the test began:\n%s", logged)
	})
}

func TestMariaDBWithoutTLS(t *testing.T) {
	t.Parallel()
	m := startMariaDB(t, dbserver.MariaDBOptions{DisableTLS: true})
	if m.CAFile != "" || m.TLSConfig() != nil {
		t.Errorf("server without TLS has CAFile %q / a TLS config", m.CAFile)
	}

	_, err := mariaConnect(t, m, m.SuperUser, m.SuperPassword, func(c *mysql.Config) {
		c.TLS = &tls.Config{ServerName: m.Host, InsecureSkipVerify: true}
	})
	if !errors.Is(err, mysql.ErrNoTLS) {
		t.Errorf("TLS login: got %v, want %v", err, mysql.ErrNoTLS)
	}
	if _, err := mariaConnect(t, m, m.SuperUser, m.SuperPassword, nil); err != nil {
		t.Errorf("plain login with the right password: %v", err)
	}
	if _, err := mariaConnect(t, m, m.SuperUser, "wrong", nil); mysqlErrorNumber(err) != errAccessDenied {
		t.Errorf("plain login with a wrong password: got %v, want error %d", err, errAccessDenied)
	}
}

func TestMariaDBRequireTLS(t *testing.T) {
	t.Parallel()
	m := startMariaDB(t, dbserver.MariaDBOptions{RequireTLS: true})

	// MariaDB answers a plain login to a server with require_secure_transport
	// with "access denied", although the password is right.
	_, err := mariaConnect(t, m, m.SuperUser, m.SuperPassword, func(c *mysql.Config) { c.TLS = nil })
	if mysqlErrorNumber(err) != errAccessDenied {
		t.Errorf("plain login: got %v, want error %d", err, errAccessDenied)
	}
	if _, err := mariaConnect(t, m, m.SuperUser, m.SuperPassword, nil); err != nil {
		t.Errorf("TLS login: %v", err)
	}
}
