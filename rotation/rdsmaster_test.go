package rotation_test

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/internal/rdsapi"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
	"github.com/rotorhq/rotor/strategies/mariadb"
)

// startRotation starts a rotation as RotateSecret does and returns a
// function that waits for its outcome.
func (e *env) startRotation(arn string) func() awslocal.RotationResult {
	e.t.Helper()
	_, err := e.sm.RotateSecret(context.Background(), &secretsmanager.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(e.fnARN)})
	must(e.t, err, "RotateSecret")
	return func() awslocal.RotationResult {
		e.t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := e.srv.WaitRotation(ctx, arn)
		must(e.t, err, "wait for rotation")
		return res
	}
}

// TestRDSMasterWithAlternatingAdmin rotates an admin secret with rds-master
// (its instance found by endpoint) and an alternating-users secret that
// uses it as masterarn: first with the alternating rotation run while the
// admin secret is mid-rotation (its setSecret done, its testSecret held),
// then one after the other in the other order. setSecret of the admin
// secret, run twice, makes no login as the admin: the server log shows
// none.
func TestRDSMasterWithAlternatingAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := dbtest.UniqueName("master")
	e.pg.CreateRole(t, admin, "master-password-1", "CREATEROLE")
	e.srv.AddDBInstance(awslocal.DBInstance{Identifier: dbtest.UniqueName("db"), Engine: "postgres", Address: e.pg.Host, Port: e.pg.Port, MasterUsername: admin,
		MasterPassword: awslocal.MasterPasswordOptions{Delay: 30 * time.Millisecond, Apply: e.pg.AlterPassword}})
	masterARN := e.createAdmin(dbtest.UniqueName("master"), e.doc(admin, "master-password-1", nil), map[string]string{rotation.TagStrategy: strategies.NameRDSMaster})
	base := dbtest.UniqueName("app")
	e.pg.CreateRole(t, base, "base-password-1")
	dropClone(t, e, base+"_clone")
	altARN := e.createSecret(dbtest.UniqueName("alt"), e.doc(base, "base-password-1", map[string]any{"masterarn": masterARN}), map[string]string{rotation.TagStrategy: strategies.NameAlternatingUsers})

	atTest, resume := make(chan struct{}), make(chan struct{})
	setLogins, setCalls := -1, 0
	e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
		if ev.SecretID != masterARN {
			return next()
		}
		switch events.Step(ev.Step) {
		case events.StepSetSecret:
			off := e.pg.LogOffset(t)
			for range 2 { // a repeated setSecret is safe
				setCalls++
				if err := next(); err != nil {
					return err
				}
			}
			setLogins = e.logins(off, admin)
			return nil
		case events.StepTestSecret:
			if atTest != nil {
				close(atTest)
				atTest = nil
				<-resume
			}
		}
		return next()
	}

	e.srv.ResetStats()
	wait := e.startRotation(masterARN)
	<-atTest
	// The admin secret is mid-rotation: RDS has its new password, its
	// AWSCURRENT still the old one.
	e.mustRotate(altARN)
	close(resume)
	if res := wait(); !res.Succeeded {
		t.Fatalf("rds-master rotation failed at %s: %v\n%s", res.Step, res.Err, e.logs.String())
	}
	if setCalls != 2 || setLogins != 0 {
		t.Fatalf("setSecret ran %d times with %d logins as %s in the server log; want 2 and none", setCalls, setLogins, admin)
	}
	if n := e.srv.Stats()["ModifyDBInstance"]; n != 2 {
		t.Fatalf("ModifyDBInstance calls: %d, want 2 (one per setSecret)\n%s", n, e.logs.String())
	}
	if !strings.Contains(e.logs.String(), "the admin secret is mid-rotation, trying its pending version") {
		t.Fatalf("the alternating rotation did not use the admin's pending version:\n%s", e.logs.String())
	}
	master := e.value(masterARN, rotation.LabelCurrent)
	must(t, e.canLogin(admin, master.Password), "new master password logs in")
	if e.canLogin(admin, "master-password-1") == nil {
		t.Fatal("the old master password still logs in")
	}

	// The other order, back to back.
	for _, arn := range []string{altARN, masterARN} {
		e.mustRotate(arn)
		cur := e.value(arn, rotation.LabelCurrent)
		must(t, e.canLogin(cur.Username, cur.Password), "current logs in after the second rotation")
	}
}

// TestRDSMasterRetriedAfterTimeout: a setSecret whose time runs out while
// RDS still applies the change fails with ErrMasterChangePending; the retry
// waits the change out without asking for it again, and testSecret proves
// the pending password took. Had the pending change been someone else's,
// testSecret fails and a later setSecret, finding nothing pending, sets the
// password: that is the third call. The cluster is named by the secret's
// dbClusterIdentifier key.
func TestRDSMasterRetriedAfterTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := dbtest.UniqueName("master")
	e.pg.CreateRole(t, admin, "master-password-1")
	release := make(chan struct{})
	var applies atomic.Int32
	cluster := dbtest.UniqueName("cl")
	e.srv.AddDBCluster(awslocal.DBCluster{Identifier: cluster, Engine: "aurora-postgresql", Endpoint: "writer.invalid", Port: e.pg.Port, MasterUsername: admin,
		MasterPassword: awslocal.MasterPasswordOptions{Apply: func(ctx context.Context, user, password string) error {
			applies.Add(1)
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			return e.pg.AlterPassword(ctx, user, password)
		}}})
	cur := parseDoc(t, e.doc(admin, "master-password-1", map[string]any{events.KeyDBClusterIdentifier: cluster}))
	pend := cur.Clone()
	pend.Password = "Master-password-2"
	e.secrets = append(e.secrets, pend.Password)
	st := e.rdsMaster(t)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := st.Set(ctx, strategies.SetRequest{Current: cur, Pending: pend, PinBase: acceptPin})
	cancel()
	if !errors.Is(err, strategies.ErrMasterChangePending) {
		t.Fatalf("first setSecret: %v, want ErrMasterChangePending", err)
	}
	close(release)
	if _, err := st.Set(context.Background(), strategies.SetRequest{Current: cur, Pending: pend, PinBase: acceptPin}); err != nil {
		t.Fatalf("retried setSecret: %v", err)
	}
	if _, err := st.Test(context.Background(), strategies.TestRequest{Pending: pend}); err != nil {
		t.Fatalf("testSecret: %v", err)
	}
	if n := e.srv.Stats()["ModifyDBCluster"]; n != 1 || applies.Load() != 1 {
		t.Fatalf("ModifyDBCluster %d, applied %d; want 1 and 1: the retry only waits", n, applies.Load())
	}

	// Someone else's change was pending: testSecret refuses, and the next
	// setSecret (nothing pending now) sets the pending password.
	must(t, e.pg.AlterPassword(context.Background(), admin, "Someone-elses-1"), "operator resets the master password")
	if _, err := st.Test(context.Background(), strategies.TestRequest{Pending: pend}); err == nil {
		t.Fatal("testSecret passed with another password in the database")
	}
	if _, err := st.Set(context.Background(), strategies.SetRequest{Current: cur, Pending: pend, PinBase: acceptPin}); err != nil {
		t.Fatalf("setSecret after the refused test: %v", err)
	}
	if _, err := st.Test(context.Background(), strategies.TestRequest{Pending: pend}); err != nil {
		t.Fatalf("testSecret after setSecret: %v", err)
	}
	if n := e.srv.Stats()["ModifyDBCluster"]; n != 2 {
		t.Fatalf("ModifyDBCluster %d, want 2", n)
	}
}

// TestRDSMasterRefusals: what rds-master refuses before it asks RDS for
// any change.
func TestRDSMasterRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	add := func(id, host, user, managed string) {
		e.srv.AddDBInstance(awslocal.DBInstance{Identifier: id, Engine: "postgres", Address: host, Port: 5432, MasterUsername: user, MasterUserSecretARN: managed})
	}
	add("other-master", "h1.invalid", "someone", "")
	add("managed", "h2.invalid", "admin", "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-abcdef")
	add("twin-a", "h3.invalid", "admin", "")
	add("twin-b", "h3.invalid", "admin", "")
	st := e.rdsMaster(t)
	doc := func(host string, extra string) *events.SecretDocument {
		return parseDoc(t, `{"engine":"postgres","host":"`+host+`","username":"admin","password":"Master-password-1"`+extra+`}`)
	}
	cases := map[string]struct {
		cur     *events.SecretDocument
		pendTo  string // pending user, when not the current one
		field   string // a FieldError naming this field
		code    string // an RDS error code
		message string // text the error holds
	}{
		"not the master user":     {cur: doc("h1.invalid", ""), field: "username"},
		"managed by RDS":          {cur: doc("h2.invalid", ""), message: "RDS rotates it"},
		"no resource there":       {cur: doc("h9.invalid", ""), field: "host"},
		"two resources there":     {cur: doc("h3.invalid", ""), field: "host"},
		"unknown identifier":      {cur: doc("h1.invalid", `,"dbInstanceIdentifier":"nope"`), code: "DBInstanceNotFound"},
		"identifier not string":   {cur: doc("h1.invalid", `,"dbInstanceIdentifier":7`), field: "dbInstanceIdentifier"},
		"unknown cluster":         {cur: doc("h1.invalid", `,"dbClusterIdentifier":"nope"`), code: "DBClusterNotFoundFault"},
		"pending user changed":    {cur: doc("h1.invalid", `,"dbInstanceIdentifier":"other-master"`), pendTo: "intruder", message: "keeps the master user"},
		"pending on other server": {cur: doc("h1.invalid", ""), pendTo: "@elsewhere", field: "host"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pend := tc.cur.Clone()
			pend.Password = "Master-password-2"
			switch {
			case tc.pendTo == "@elsewhere":
				pend.Host = "elsewhere.invalid"
			case tc.pendTo != "":
				pend.Username = tc.pendTo
			}
			_, err := st.Set(context.Background(), strategies.SetRequest{Current: tc.cur, Pending: pend, PinBase: acceptPin})
			var fe *events.FieldError
			var ae smithy.APIError
			switch {
			case err == nil:
				t.Fatal("accepted")
			case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
				t.Fatalf("%v, want a field error naming %q", err, tc.field)
			case tc.code != "" && (!errors.As(err, &ae) || ae.ErrorCode() != tc.code):
				t.Fatalf("%v, want %s", err, tc.code)
			case !strings.Contains(err.Error(), tc.message):
				t.Fatalf("%v, want it to say %q", err, tc.message)
			}
		})
	}
	if n := e.srv.Stats()["ModifyDBInstance"] + e.srv.Stats()["ModifyDBCluster"]; n != 0 {
		t.Fatalf("%d changes asked of RDS", n)
	}
}

// TestRDSMasterMariaDB rotates a MariaDB master through RDS twice, the
// instance named by dbInstanceIdentifier: no login as the master in
// setSecret, the new password logs in, the old one does not.
func TestRDSMasterMariaDB(t *testing.T) {
	t.Parallel()
	e := newMariaEnv(t, envOptions{strategy: strategies.NameRDSMaster})
	admin := dbtest.UniqueName("master")
	e.m.CreateUser(t, admin, "master-password-1")
	id := dbtest.UniqueName("db")
	e.srv.AddDBInstance(awslocal.DBInstance{Identifier: id, Engine: "mariadb", Address: "instance.invalid", Port: e.m.Port, MasterUsername: admin,
		MasterPassword: awslocal.MasterPasswordOptions{Delay: 30 * time.Millisecond, Apply: e.m.AlterPassword}})
	arn := e.createSecret(dbtest.UniqueName("s"), e.mdoc(mariadb.EngineMariaDB, admin, "master-password-1", map[string]any{events.KeyDBInstanceIdentifier: id}), nil)
	setLogins := 0
	e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
		if events.Step(ev.Step) != events.StepSetSecret {
			return next()
		}
		off := e.m.LogOffset(t)
		err := next()
		setLogins += e.logins(off, admin)
		return err
	}
	old := "master-password-1"
	for round := range 2 {
		e.mustRotate(arn)
		cur := e.value(arn, rotation.LabelCurrent)
		must(t, e.canLogin(admin, cur.Password), "new master password logs in")
		if e.canLogin(admin, old) == nil {
			t.Fatalf("round %d: the old master password still logs in", round+1)
		}
		if len(cur.Password) > 41 {
			t.Fatalf("round %d: a %d-character password, RDS takes 41 at most for MariaDB", round+1, len(cur.Password))
		}
		old = cur.Password
	}
	if setLogins != 0 {
		t.Fatalf("%d logins as the master during setSecret, want none", setLogins)
	}

	// Whoever may write the secret cannot re-point it at another master
	// (whose new password would land in this secret): the secret is pinned
	// to its instance at the first rotation.
	other := dbtest.UniqueName("db")
	otherCalls := 0
	e.srv.AddDBInstance(awslocal.DBInstance{Identifier: other, Engine: "mariadb", Address: "other.invalid", Port: e.m.Port, MasterUsername: admin,
		MasterPassword: awslocal.MasterPasswordOptions{Apply: func(context.Context, string, string) error { otherCalls++; return nil }}})
	cur := e.value(arn, rotation.LabelCurrent)
	e.putCurrent(arn, e.mdoc(mariadb.EngineMariaDB, admin, cur.Password, map[string]any{events.KeyDBInstanceIdentifier: other}))
	e.hook = nil
	e.wantRefused(arn, "pinned")
	if otherCalls != 0 {
		t.Fatalf("the other instance's master password was changed %d time(s)", otherCalls)
	}
}

// rdsMaster builds an rds-master strategy on e's stand-in and database CA.
func (e *env) rdsMaster(t *testing.T) strategies.Strategy {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.pg.CAPEM)
	st, err := strategies.New(strategies.NameRDSMaster, strategies.Options{Engines: builtin.Engines(), RootCAs: pool,
		RDS: rdsapi.New(e.srv.SDKConfig(serverURL(t, e.srv))), RDSPollInterval: 10 * time.Millisecond})
	must(t, err, "strategies.New")
	return st
}

func parseDoc(t *testing.T, s string) *events.SecretDocument {
	t.Helper()
	d, err := events.ParseSecretDocument(s)
	must(t, err, "parse document")
	return d
}

// TestAdminPendingVersionOnlyForSameUserAndServer: an alternating rotation
// whose admin password is refused tries the admin secret's AWSPENDING
// version only when it names the same user on the same server.
func TestAdminPendingVersionOnlyForSameUserAndServer(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		host, user string // the pending version's; "" keeps the admin's
		ok         bool
	}{
		"same user and server": {ok: true},
		"another server":       {host: "elsewhere.invalid"},
		"another user":         {user: "postgres"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{strategy: strategies.NameAlternatingUsers, attempts: 1})
			// The admin secret's AWSCURRENT holds a stale password; its
			// AWSPENDING the one the database has.
			arn, _ := alternating(t, e, "stale-admin-password")
			masterARN := e.value(arn, rotation.LabelCurrent).MasterARN
			admin := e.value(masterARN, rotation.LabelCurrent)
			pend := admin.Clone()
			pend.Password = "admin-password-1"
			if tc.host != "" {
				pend.Host = tc.host
			}
			if tc.user != "" {
				pend.Username = tc.user
			}
			body, _ := pend.MarshalJSON()
			_, err := e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(masterARN),
				ClientRequestToken: aws.String("00000000-0000-4000-8000-000000000001"), SecretString: aws.String(string(body)), VersionStages: []string{rotation.LabelPending}})
			must(t, err, "put the admin's pending version")
			res := e.rotate(arn)
			if res.Succeeded != tc.ok {
				t.Fatalf("rotation succeeded=%v (%v), want %v", res.Succeeded, res.Err, tc.ok)
			}
			if used := strings.Contains(e.logs.String(), "trying its pending version"); used != tc.ok {
				t.Fatalf("pending admin version used=%v, want %v", used, tc.ok)
			}
		})
	}
}

// TestRDSMasterFindsAuroraClusterByEndpoint: with no identifier in the
// secret, an Aurora instance's endpoint leads to its cluster, whose master
// password is the one changed (ModifyDBCluster, never ModifyDBInstance).
func TestRDSMasterFindsAuroraClusterByEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	admin := dbtest.UniqueName("master")
	e.pg.CreateRole(t, admin, "master-password-1")
	cluster := dbtest.UniqueName("cl")
	e.srv.AddDBCluster(awslocal.DBCluster{Identifier: cluster, Engine: "aurora-postgresql", Endpoint: "cluster.invalid", Port: e.pg.Port, MasterUsername: admin,
		MasterPassword: awslocal.MasterPasswordOptions{Apply: e.pg.AlterPassword}})
	e.srv.AddDBInstance(awslocal.DBInstance{Identifier: dbtest.UniqueName("member"), Engine: "aurora-postgresql", Address: e.pg.Host, Port: e.pg.Port, DBClusterIdentifier: cluster})
	cur := parseDoc(t, e.doc(admin, "master-password-1", nil))
	pend := cur.Clone()
	pend.Password = "Master-password-2"
	e.secrets = append(e.secrets, pend.Password)
	st := e.rdsMaster(t)
	if _, err := st.Set(context.Background(), strategies.SetRequest{Current: cur, Pending: pend, PinBase: acceptPin}); err != nil {
		t.Fatalf("setSecret: %v", err)
	}
	if _, err := st.Test(context.Background(), strategies.TestRequest{Pending: pend}); err != nil {
		t.Fatalf("testSecret: %v", err)
	}
	if s := e.srv.Stats(); s["ModifyDBCluster"] != 1 || s["ModifyDBInstance"] != 0 {
		t.Fatalf("ModifyDBCluster %d, ModifyDBInstance %d; want 1 and 0", s["ModifyDBCluster"], s["ModifyDBInstance"])
	}
}

// acceptPin stands in for the rotator's pin check where a test drives the
// strategy directly; the pin itself is tested through the rotator.
func acceptPin(context.Context, string) error { return nil }
