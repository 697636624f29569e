package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/internal/ops"
	"github.com/rotorhq/rotor/internal/ops/opstest"
	"github.com/rotorhq/rotor/internal/saslprep"
	"github.com/rotorhq/rotor/internal/saslprep/saslpreptest"
	"github.com/rotorhq/rotor/rotation"
)

// nonASCIIWorkers is how many passwords of the table run at once: the
// steps mostly wait (psql processes, logins, the stand-in), so a few at a
// time keep the test short without adding CPU.
const nonASCIIWorkers = 4

// TestNonASCIIPasswords runs the table of non-ASCII and edge passwords
// (saslpreptest.Cases) through what a person and rotor do to a single-user
// secret, against the harness's PostgreSQL:
//
//  1. a person sets the password with psql (ALTER ROLE ... PASSWORD with
//     the plaintext, so the server builds the verifier with its SASLprep);
//     it logs in through psql (libpq) and through pgx as rotor logs in;
//  2. rotor rotates away from it with single-user (setSecret logs in with
//     it through pgx); the generated password logs in through both, the
//     person's no longer does;
//  3. rotor's rollback sets it back with rotor's own verifier; it logs in
//     through both again, the generated one no longer does.
//
// For the passwords pgx cannot send (PgxCannot) psql logs in, rotor's
// login fails with saslprep.ErrPgxCannotSend rather than as a wrong
// password, the rotation fails at setSecret, and psql still logs in.
func TestNonASCIIPasswords(t *testing.T) {
	t.Parallel()
	dbtest.RequirePsql(t)
	e := opstest.New(t)
	n := nonASCIIRun{e: e}
	type job struct {
		c         saslpreptest.Case
		user, arn string
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range nonASCIIWorkers {
		wg.Go(func() {
			for j := range jobs {
				if err := n.run(j.c, j.user, j.arn); err != nil {
					t.Errorf("%s: %v", j.c.Name, err)
				}
			}
		})
	}
	for _, c := range saslpreptest.Cases {
		user := e.Role("nx", "ascii-start-1")
		jobs <- job{c: c, user: user, arn: e.Secret(e.Doc(user, c.Password), nil)}
	}
	close(jobs)
	wg.Wait()
	t.Logf("%d passwords: %d logins through psql and pgx accepted, %d replaced passwords refused", len(saslpreptest.Cases), n.logins.Load(), n.refused.Load())
}

// nonASCIIRun is TestNonASCIIPasswords's state; its methods run on the
// workers' goroutines, so they return errors instead of failing the test.
type nonASCIIRun struct {
	e               *opstest.Env
	logins, refused atomic.Int64
}

// run takes one password through the three states (see
// TestNonASCIIPasswords). The errors name the state and never hold a
// password.
func (n *nonASCIIRun) run(c saslpreptest.Case, user, arn string) error {
	ctx := context.Background()
	if err := n.e.PG.SetPasswordWithPsql(user, c.Password); err != nil {
		return err
	}
	if err := n.logsIn("set by the server", user, c.Password, !c.PgxCannot); err != nil {
		return err
	}
	if c.PgxCannot {
		return n.pgxCannot(user, arn, c.Password)
	}
	if r, err := n.rotate(arn); err != nil || !r.Succeeded {
		return fmt.Errorf("rotate away: %+v, %v", r, err)
	}
	rotated, err := n.currentPassword(arn)
	if err != nil {
		return err
	}
	if err := n.logsIn("rotated", user, rotated, true); err != nil {
		return err
	}
	if err := n.refuse("rotated", user, c.Password); err != nil {
		return err
	}
	res, err := ops.Rollback(ctx, ops.RollbackOptions{Secrets: n.e.SM, DB: n.e.DBOptions}, arn)
	if err != nil || !res.PasswordRestored {
		return fmt.Errorf("rollback: %+v, %v", res, err)
	}
	if err := n.logsIn("set back by rollback", user, c.Password, true); err != nil {
		return err
	}
	return n.refuse("set back by rollback", user, rotated)
}

// logsIn logs in through psql and, if withPgx, through pgx as rotor does.
func (n *nonASCIIRun) logsIn(state, user, password string, withPgx bool) error {
	if err := n.e.PG.PsqlCanLogin(user, password, n.e.DB); err != nil {
		return fmt.Errorf("%s: psql refused: %v", state, err)
	}
	n.logins.Add(1)
	if !withPgx {
		return nil
	}
	if err := n.e.DBOptions.Ping(context.Background(), n.doc(user, password)); err != nil {
		return fmt.Errorf("%s: rotor's pgx login refused: %v", state, err)
	}
	n.logins.Add(1)
	return nil
}

// refuse checks that a replaced password no longer logs in (through pgx:
// psql's refusals would cost a process each and prove nothing more, since
// the server refuses the password whoever derives the proof).
func (n *nonASCIIRun) refuse(state, user, password string) error {
	if n.e.DBOptions.Ping(context.Background(), n.doc(user, password)) == nil {
		return fmt.Errorf("%s: pgx still logs in with the password rotor replaced", state)
	}
	n.refused.Add(1)
	return nil
}

// pgxCannot checks a password pgx cannot send: rotor's login says so
// (not a refused password), a rotation fails at setSecret, and the
// password still logs in through psql.
func (n *nonASCIIRun) pgxCannot(user, arn, password string) error {
	if err := n.e.DBOptions.Ping(context.Background(), n.doc(user, password)); !errors.Is(err, saslprep.ErrPgxCannotSend) {
		return fmt.Errorf("rotor's pgx login: %v, want ErrPgxCannotSend", err)
	}
	r, err := n.rotate(arn)
	if err != nil {
		return err
	}
	if r.Succeeded || r.Step != events.StepSetSecret || r.Err == nil || !strings.Contains(r.Err.Error(), "pgx cannot log in with this password") {
		return fmt.Errorf("rotation %+v, want a failure at setSecret saying pgx cannot send the password", r)
	}
	return n.logsIn("after the failed rotation", user, password, false)
}

// rotate attaches the rotator and rotates at once (the first rotation of
// the secret), waits for the run and returns its outcome.
func (n *nonASCIIRun) rotate(arn string) (awslocal.RotationResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := n.e.SM.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId:          aws.String(arn),
		RotationLambdaARN: aws.String(n.e.FunctionARN),
		RotationRules:     &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
		RotateImmediately: aws.Bool(true),
	})
	if err != nil {
		return awslocal.RotationResult{}, fmt.Errorf("start rotation: %w", err)
	}
	return n.e.Srv.WaitRotation(ctx, arn)
}

// currentPassword reads the password of the secret's AWSCURRENT version.
func (n *nonASCIIRun) currentPassword(arn string) (string, error) {
	out, err := n.e.SM.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String(rotation.LabelCurrent)})
	if err != nil {
		return "", fmt.Errorf("read AWSCURRENT: %w", err)
	}
	var d events.SecretDocument
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &d); err != nil {
		return "", fmt.Errorf("decode AWSCURRENT: %w", err)
	}
	return d.Password, nil
}

// doc is a single-user secret document for user on the test's database.
func (n *nonASCIIRun) doc(user, password string) *events.SecretDocument {
	return &events.SecretDocument{Engine: "postgres", Host: n.e.PG.Host, Port: n.e.PG.Port, Username: user, Password: password, DBName: n.e.DB}
}
