package main

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/jackc/pgx/v5"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/dbserver"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
	"github.com/rotorhq/rotor/strategies/postgres"
)

// world is a throwaway database server, the local Secrets Manager and the
// real rotator in-process, as `rotor demo` and the tests build them.
type world struct {
	engine string // "postgres" or "mariadb"
	pg     *dbserver.Postgres
	maria  *dbserver.MariaDB
	srv    *awslocal.Server
	sm     *secretsmanager.Client
	fnARN  string
	sopts  strategies.Options
	logins atomic.Int64
	admins []string
	mu     sync.Mutex
	n      int
	mdb    *sql.DB
	pgc    *pgx.Conn
}

func newWorld(ctx context.Context, engine string, pgSettings map[string]string) (*world, error) {
	w := &world{engine: engine}
	pool := x509.NewCertPool()
	var err error
	switch engine {
	case "postgres":
		if w.pg, err = dbserver.StartPostgres(ctx, dbserver.PostgresOptions{Settings: pgSettings}); err != nil {
			return nil, err
		}
		pool.AppendCertsFromPEM(w.pg.CAPEM)
		if w.pgc, err = w.pg.Connect(ctx, "postgres"); err != nil {
			w.close()
			return nil, err
		}
	case "mariadb":
		if w.maria, err = dbserver.StartMariaDB(ctx, dbserver.MariaDBOptions{}); err != nil {
			return nil, err
		}
		pool.AppendCertsFromPEM(w.maria.CAPEM)
		if w.mdb, err = w.maria.Connect(ctx, ""); err != nil {
			w.close()
			return nil, err
		}
		if _, err := w.mdb.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS bench"); err != nil {
			w.close()
			return nil, err
		}
	}
	w.sopts = strategies.Options{Engines: builtin.Engines(), RootCAs: pool, OnLogin: func(strategies.LoginInfo) { w.logins.Add(1) }}.WithDefaults()
	if w.srv, err = awslocal.New(awslocal.Options{RotationBackoff: -1}); err != nil {
		w.close()
		return nil, err
	}
	url, err := w.srv.Start("")
	if err != nil {
		w.close()
		return nil, err
	}
	w.sm = secretsmanager.NewFromConfig(w.srv.SDKConfig(url))
	w.fnARN = w.srv.FunctionARN("rotor-rotator")
	return w, w.register()
}

func (w *world) close() {
	if w.srv != nil {
		w.srv.Close()
	}
	if w.pgc != nil {
		w.pgc.Close(context.Background())
	}
	if w.mdb != nil {
		w.mdb.Close()
	}
	if w.pg != nil {
		w.pg.Stop()
	}
	if w.maria != nil {
		w.maria.Stop()
	}
}

func (w *world) register() error {
	rot, err := rotation.New(rotation.Options{
		Secrets:         w.sm,
		Strategies:      func(name string) (strategies.Strategy, error) { return strategies.New(name, w.sopts) },
		Logger:          slog.New(slog.DiscardHandler),
		AdminSecretARNs: w.admins,
	})
	if err != nil {
		return err
	}
	w.srv.SetFunction(w.fnARN, awslocal.FuncInvoker(rot.Handle))
	return nil
}

// name returns a fresh name with prefix.
func (w *world) name(prefix string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	return fmt.Sprintf("%s_%d", prefix, w.n)
}

// user creates a login with password; admin makes it able to manage
// others (CREATEROLE; on MariaDB every privilege with grant option).
func (w *world) user(ctx context.Context, prefix, password string, admin bool) (string, error) {
	name := w.name(prefix)
	switch w.engine {
	case "postgres":
		v, err := postgres.ScramVerifier(password)
		if err != nil {
			return "", err
		}
		attrs := ""
		if admin {
			attrs = "CREATEROLE"
		}
		_, err = w.pgc.Exec(ctx, fmt.Sprintf("CREATE ROLE %s WITH LOGIN %s PASSWORD '%s'", pgx.Identifier{name}.Sanitize(), attrs, v))
		return name, err
	default:
		account := "`" + name + "`@'%'"
		if _, err := w.mdb.ExecContext(ctx, "CREATE USER "+account+" IDENTIFIED BY PASSWORD '"+dbserver.NativePasswordHash(password)+"'"); err != nil {
			return "", err
		}
		grant := "GRANT SELECT ON `bench`.* TO " + account
		if admin {
			grant = "GRANT ALL ON *.* TO " + account + " WITH GRANT OPTION"
		}
		_, err := w.mdb.ExecContext(ctx, grant)
		return name, err
	}
}

func (w *world) doc(user, password, masterARN string) string {
	d := events.SecretDocument{Engine: w.engine, Username: user, Password: password, MasterARN: masterARN}
	if w.engine == "postgres" {
		d.Host, d.Port, d.DBName = w.pg.Host, w.pg.Port, "postgres"
	} else {
		d.Host, d.Port, d.DBName = w.maria.Host, w.maria.Port, "bench"
	}
	b, _ := json.Marshal(&d)
	return string(b)
}

// secret creates a secret holding doc with rotation configured (checked
// with testSecret, not rotated) and returns its ARN.
func (w *world) secret(ctx context.Context, doc string, tags map[string]string) (string, error) {
	in := &secretsmanager.CreateSecretInput{Name: aws.String(w.name("bench/secret")), SecretString: aws.String(doc)}
	for k, v := range tags {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := w.sm.CreateSecret(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ARN), nil
}

// enableBatch is how many secrets enable checks at once: each check is a
// database login, and a thousand at once would be a login storm.
const enableBatch = 20

// enable attaches the rotator to every secret (RotateImmediately false),
// enableBatch at a time, and waits for the checks.
func (w *world) enable(ctx context.Context, arns []string) error {
	for i := 0; i < len(arns); i += enableBatch {
		batch := arns[i:min(i+enableBatch, len(arns))]
		for _, arn := range batch {
			if _, err := w.sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
				SecretId: aws.String(arn), RotationLambdaARN: aws.String(w.fnARN),
				RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}, RotateImmediately: aws.Bool(false),
			}); err != nil {
				return err
			}
		}
		for _, arn := range batch {
			if r, err := w.srv.WaitRotation(ctx, arn); err != nil || !r.Succeeded {
				return fmt.Errorf("enable rotation on %s: %v %v", arn, err, r.Err)
			}
		}
	}
	return nil
}

// fleet makes n single-user secrets (alternating when alternating) with
// rotation configured.
func (w *world) fleet(ctx context.Context, n int, alternating bool) ([]string, error) {
	tags := map[string]string{}
	master := ""
	if alternating {
		admin, err := w.user(ctx, "bench_admin", "bench-admin-password-1", true)
		if err != nil {
			return nil, err
		}
		if master, err = w.secret(ctx, w.doc(admin, "bench-admin-password-1", ""), nil); err != nil {
			return nil, err
		}
		w.admins = append(w.admins, master)
		if err := w.register(); err != nil {
			return nil, err
		}
		tags[rotation.TagStrategy] = strategies.NameAlternatingUsers
	}
	arns := make([]string, n)
	for i := range arns {
		pw := fmt.Sprintf("bench-password-%d-initial", i)
		u, err := w.user(ctx, "bench_u", pw, false)
		if err != nil {
			return nil, fmt.Errorf("create user: %w", err)
		}
		if arns[i], err = w.secret(ctx, w.doc(u, pw, master), tags); err != nil {
			return nil, err
		}
	}
	return arns, w.enable(ctx, arns)
}

// statements counts the statements the server logged from offset on.
func (w *world) statements(off int64) (int, error) {
	if w.engine == "postgres" {
		text, err := w.pg.ReadLogFrom(off)
		return strings.Count(text, "LOG:  statement: "), err
	}
	text, err := w.maria.ReadLogFrom(off)
	return strings.Count(text, " Query\t"), err
}

func (w *world) logSize() (int64, error) {
	if w.engine == "postgres" {
		return w.pg.LogSize()
	}
	return w.maria.LogSize()
}
