package dbserver_test

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rotorhq/rotor/internal/local/dbserver"
)

func startPostgres(t *testing.T, opts dbserver.PostgresOptions) *dbserver.Postgres {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pg, err := dbserver.StartPostgres(ctx, opts)
	if err != nil {
		t.Fatalf("StartPostgres: %v", err)
	}
	t.Cleanup(func() {
		if err := pg.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return pg
}

func pgConnect(t *testing.T, pg *dbserver.Postgres, user, password string, mutate func(*pgx.ConnConfig)) (*pgx.Conn, error) {
	t.Helper()
	cfg, err := pg.ConnConfig(user, password, "postgres")
	if err != nil {
		t.Fatalf("ConnConfig: %v", err)
	}
	if mutate != nil {
		mutate(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		t.Cleanup(func() { conn.Close(context.Background()) })
	}
	return conn, err
}

func pgErrorCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t, dbserver.PostgresOptions{})
	ctx := context.Background()

	admin, err := pg.Connect(ctx, "postgres")
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { admin.Close(ctx) })

	// Roles whose passwords are set from verifiers computed in Go.
	passwords := map[string]string{
		"app_ascii":   "s3cret-Pa55word_!",
		"app_unicode": "pässwörd-ünïcødé",
	}
	for role, password := range passwords {
		verifier, err := dbserver.SCRAMSHA256Verifier(password)
		if err != nil {
			t.Fatalf("SCRAMSHA256Verifier: %v", err)
		}
		sql := "CREATE ROLE " + pgx.Identifier{role}.Sanitize() + " LOGIN PASSWORD '" + verifier + "'"
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("create role %s: %v", role, err)
		}
	}

	tests := []struct {
		name     string
		user     string
		password string
		mutate   func(*pgx.ConnConfig)
		wantCode string // "" means the login succeeds
		wantErr  string // a substring of the error, for errors without a SQLSTATE
	}{
		{name: "superuser with right password", user: pg.SuperUser, password: pg.SuperPassword},
		{name: "superuser with wrong password", user: pg.SuperUser, password: "wrong", wantCode: "28P01"},
		{name: "superuser with empty password", user: pg.SuperUser, password: "", wantErr: "password"},
		{name: "role from verifier", user: "app_ascii", password: passwords["app_ascii"]},
		{name: "role from verifier, unicode password", user: "app_unicode", password: passwords["app_unicode"]},
		{name: "role from verifier, wrong password", user: "app_ascii", password: passwords["app_unicode"], wantCode: "28P01"},
		{name: "without TLS", user: pg.SuperUser, password: pg.SuperPassword, mutate: func(c *pgx.ConnConfig) { c.TLSConfig = nil }},
		{
			name: "TLS against the system roots instead of the run's CA", user: pg.SuperUser, password: pg.SuperPassword,
			mutate:  func(c *pgx.ConnConfig) { c.TLSConfig = &tls.Config{ServerName: pg.Host} },
			wantErr: "certificate",
		},
		{
			name: "TLS for a name the certificate does not hold", user: pg.SuperUser, password: pg.SuperPassword,
			mutate:  func(c *pgx.ConnConfig) { c.TLSConfig.ServerName = "db.example.com" },
			wantErr: "certificate",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn, err := pgConnect(t, pg, tc.user, tc.password, tc.mutate)
			switch {
			case tc.wantCode == "" && tc.wantErr == "":
				if err != nil {
					t.Fatalf("login as %s: %v", tc.user, err)
				}
			case err == nil:
				t.Fatalf("login as %s succeeded, want it refused", tc.user)
			case tc.wantCode != "" && pgErrorCode(err) != tc.wantCode:
				t.Fatalf("login as %s: got %v, want SQLSTATE %s", tc.user, err, tc.wantCode)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("login as %s: got %v, want an error mentioning %q", tc.user, err, tc.wantErr)
			}
			if err != nil {
				for _, pw := range []string{pg.SuperPassword, passwords["app_ascii"], passwords["app_unicode"]} {
					if strings.Contains(err.Error(), pw) {
						t.Errorf("error text contains a password: %v", err)
					}
				}
				return
			}
			var ssl bool
			if err := conn.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil {
				t.Fatalf("query pg_stat_ssl: %v", err)
			}
			if wantSSL := conn.Config().TLSConfig != nil; ssl != wantSSL {
				t.Errorf("session ssl = %v, want %v", ssl, wantSSL)
			}
		})
	}

	t.Run("log shows statements and connections", func(t *testing.T) {
		off, err := pg.LogSize()
		if err != nil {
			t.Fatalf("LogSize: %v", err)
		}
		conn, err := pgConnect(t, pg, pg.SuperUser, pg.SuperPassword, nil)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		if _, err := conn.Exec(ctx, "SELECT 'dbserver-log-marker'"); err != nil {
			t.Fatalf("run marker statement: %v", err)
		}
		logged, err := pg.ReadLogFrom(off)
		if err != nil {
			t.Fatalf("ReadLogFrom: %v", err)
		}
		for _, want := range []string{"statement: SELECT 'dbserver-log-marker'", "connection authorized: user=" + pg.SuperUser, "SSL enabled"} {
			if !strings.Contains(logged, want) {
				t.Errorf("log since offset %d lacks %q:\n%s", off, want, logged)
			}
		}
		whole, err := pg.ReadLog()
		if err != nil {
			t.Fatalf("ReadLog: %v", err)
		}
		if !strings.HasSuffix(whole, logged) || len(whole) < len(logged) {
			t.Errorf("ReadLogFrom(%d) is not the tail of ReadLog", off)
		}
		for name, pw := range map[string]string{"superuser": pg.SuperPassword, "app_ascii": passwords["app_ascii"], "app_unicode": passwords["app_unicode"]} {
			if strings.Contains(whole, pw) {
				t.Errorf("server log contains the %s password", name)
			}
		}
		t.Logf("server log since the test began:\n%s", logged)
	})
}

func TestPostgresWithoutTLS(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t, dbserver.PostgresOptions{DisableTLS: true})
	if pg.CAFile != "" || pg.TLSConfig() != nil {
		t.Errorf("server without TLS has CAFile %q / a TLS config", pg.CAFile)
	}

	_, err := pgConnect(t, pg, pg.SuperUser, pg.SuperPassword, func(c *pgx.ConnConfig) {
		c.TLSConfig = &tls.Config{ServerName: pg.Host, InsecureSkipVerify: true}
	})
	if err == nil || !strings.Contains(err.Error(), "refused TLS") {
		t.Errorf("TLS login: got %v, want the server to refuse TLS", err)
	}
	if _, err := pgConnect(t, pg, pg.SuperUser, pg.SuperPassword, nil); err != nil {
		t.Errorf("plain login with the right password: %v", err)
	}
	if _, err := pgConnect(t, pg, pg.SuperUser, "wrong", nil); pgErrorCode(err) != "28P01" {
		t.Errorf("plain login with a wrong password: got %v, want SQLSTATE 28P01", err)
	}
}

func TestPostgresRequireTLS(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t, dbserver.PostgresOptions{RequireTLS: true})

	_, err := pgConnect(t, pg, pg.SuperUser, pg.SuperPassword, func(c *pgx.ConnConfig) { c.TLSConfig = nil })
	if pgErrorCode(err) != "28000" {
		t.Errorf("plain login: got %v, want SQLSTATE 28000 (no pg_hba.conf entry)", err)
	}
	if _, err := pgConnect(t, pg, pg.SuperUser, pg.SuperPassword, nil); err != nil {
		t.Errorf("TLS login: %v", err)
	}
}

func TestPostgresStop(t *testing.T) {
	t.Parallel()
	pg, err := dbserver.StartPostgres(context.Background(), dbserver.PostgresOptions{DisableTLS: true})
	if err != nil {
		t.Fatalf("StartPostgres: %v", err)
	}
	if err := pg.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := pg.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := os.Stat(pg.Dir); !os.IsNotExist(err) {
		t.Errorf("run directory %s still there after Stop (stat: %v)", pg.Dir, err)
	}
	if _, err := pgConnect(t, pg, pg.SuperUser, pg.SuperPassword, nil); err == nil {
		t.Errorf("login succeeded after Stop")
	}
}

func TestPostgresOptionsConflict(t *testing.T) {
	_, err := dbserver.StartPostgres(context.Background(), dbserver.PostgresOptions{DisableTLS: true, RequireTLS: true})
	if err == nil {
		t.Fatal("StartPostgres with DisableTLS and RequireTLS succeeded")
	}
}

func TestMissingBinary(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name        string
		start       func() error
		wantPackage string
	}{
		{
			name: "postgres",
			start: func() error {
				_, err := dbserver.StartPostgres(context.Background(), dbserver.PostgresOptions{BinDir: empty})
				return err
			},
			wantPackage: "postgresql",
		},
		{
			name: "mariadb",
			start: func() error {
				_, err := dbserver.StartMariaDB(context.Background(), dbserver.MariaDBOptions{BinDir: empty})
				return err
			},
			wantPackage: "mariadb-server",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.start()
			var missing *dbserver.MissingBinaryError
			if !errors.As(err, &missing) {
				t.Fatalf("got %v, want a *MissingBinaryError", err)
			}
			if missing.Package != tc.wantPackage {
				t.Errorf("Package = %q, want %q", missing.Package, tc.wantPackage)
			}
			if want := "apt-get install -y " + tc.wantPackage; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks the install command %q", err, want)
			}
		})
	}
}
