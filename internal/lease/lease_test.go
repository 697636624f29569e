package lease_test

import (
	"context"
	"errors"
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
	"github.com/rotorhq/rotor/internal/lease/leasetest"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
	"github.com/rotorhq/rotor/strategies/builtin"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func issue(t *testing.T, w *leasetest.World, ttl int) events.Lease {
	t.Helper()
	l, err := w.Svc.Handle(context.Background(), events.LeaseRequest{Role: "app", TTLSeconds: ttl})
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	w.Remember(l.Credentials.Password)
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
			w := leasetest.New(t, eng)
			ctx := context.Background()
			l := issue(t, w, 0)
			c := l.Credentials
			if !strings.HasPrefix(c.Username, "v_app_") || c.Engine != eng || c.DBName == "" || c.Password == "" {
				t.Fatalf("lease %s: credentials %s@%s:%d/%s", l, c.Username, c.Host, c.Port, c.DBName)
			}
			if got := l.ExpiresAt.Sub(l.IssuedAt); got != 600*time.Second || l.MaxExpiresAt.Sub(l.IssuedAt) != time.Hour {
				t.Fatalf("lease %s: ttl %s", l, got)
			}
			if err := w.Use(c.Username, c.Password); err != nil {
				t.Fatalf("the lease cannot use its group's grants: %v", err)
			}

			renew := events.LeaseRequest{Action: events.LeaseRenew, Role: "app", Username: c.Username, Password: c.Password, TTLSeconds: 1200}
			wrong := renew
			wrong.Password = "Not-The-Password-1"
			_, err := w.Svc.Handle(ctx, wrong)
			ghost := renew
			ghost.Username = strings.TrimSuffix(c.Username, c.Username[len(c.Username)-3:]) + "zzz"
			_, errGhost := w.Svc.Handle(ctx, ghost)
			if errType(err) != lease.TypeDenied || errType(errGhost) != lease.TypeDenied || err.Error() != errGhost.Error() {
				t.Fatalf("wrong password: %v; unknown user: %v; want the same LeaseDenied", err, errGhost)
			}
			w.Clock.Advance(5 * time.Minute)
			r, err := w.Svc.Handle(ctx, renew)
			if d := r.ExpiresAt.Sub(l.IssuedAt); err != nil || !r.IssuedAt.Equal(l.IssuedAt) || d < 24*time.Minute || d > 26*time.Minute {
				t.Fatalf("renew: %s, %v; want expiry about %s", r, err, l.IssuedAt.Add(25*time.Minute))
			}
			// Renewal stops at issue + maxTtlSeconds.
			w.Clock.Advance(15 * time.Minute)
			renew.TTLSeconds = 3000
			if r, err = w.Svc.Handle(ctx, renew); err != nil || !r.ExpiresAt.Equal(l.MaxExpiresAt) {
				t.Fatalf("renew near the maximum: %s, %v; want expiry %s", r, err, l.MaxExpiresAt)
			}
			over := renew
			over.TTLSeconds = 3601
			if _, err := w.Svc.Handle(ctx, over); errType(err) != lease.TypeInvalid || !strings.Contains(err.Error(), "ttlSeconds") || !strings.Contains(err.Error(), "3600") {
				t.Fatalf("renew over the maximum: %v", err)
			}
			if _, err := w.Svc.Handle(ctx, events.LeaseRequest{Role: "app", TTLSeconds: 7200}); errType(err) != lease.TypeInvalid || !strings.Contains(err.Error(), "ttlSeconds") || !strings.Contains(err.Error(), "maximum of 3600") {
				t.Fatalf("issue over the maximum: %v", err)
			}
			if _, err := w.Svc.Handle(ctx, events.LeaseRequest{Role: "nosuch"}); errType(err) != lease.TypeInvalid || !strings.Contains(err.Error(), `"nosuch"`) {
				t.Fatalf("unknown role definition: %v", err)
			}

			// Revoke: the user is gone at once.
			if _, err := w.Svc.Handle(ctx, events.LeaseRequest{Action: events.LeaseRevoke, Role: "app", Username: c.Username, Password: "Not-The-Password-1"}); errType(err) != lease.TypeDenied {
				t.Fatalf("revoke without the password: %v", err)
			}
			v, err := w.Svc.Handle(ctx, events.LeaseRequest{Action: events.LeaseRevoke, Role: "app", Username: c.Username, Password: c.Password})
			if err != nil || !v.Revoked || v.Credentials != nil {
				t.Fatalf("revoke: %+v, %v", v, err)
			}
			if err := w.Use(c.Username, c.Password); err == nil {
				t.Fatal("a revoked lease still logs in")
			}
			if _, err := w.Svc.Handle(ctx, renew); errType(err) != lease.TypeDenied {
				t.Fatalf("renew after revoke: %v", err)
			}

			// Reap: an expired lease with a session open and a table of
			// its own is dropped; the table is kept, now the group's.
			live := issue(t, w, 3600)
			dead := issue(t, w, 60)
			table := w.MakeTable(dead.Credentials.Username, dead.Credentials.Password)
			if rep := w.Svc.Reap(ctx); rep.Reaped != 0 || len(rep.Failures) != 0 || rep.Checked != 2 {
				t.Fatalf("reap before expiry: %+v", rep)
			}
			w.Clock.Advance(2 * time.Minute)
			if _, err := w.Svc.Handle(ctx, events.LeaseRequest{Action: events.LeaseRenew, Role: "app", Username: dead.Credentials.Username, Password: dead.Credentials.Password}); errType(err) != lease.TypeDenied {
				t.Fatalf("renew of an expired lease: %v", err)
			}
			if rep := w.Svc.Reap(ctx); rep.Reaped != 1 || len(rep.Failures) != 0 {
				t.Fatalf("reap after expiry: %+v", rep)
			}
			if err := w.Use(dead.Credentials.Username, dead.Credentials.Password); err == nil {
				t.Fatal("a reaped lease still logs in")
			}
			owner, err := w.Owner(table)
			if err != nil || (eng == "postgres" && owner != w.Group) {
				t.Fatalf("the reaped user's table: owner %q, %v; want it kept, owned by %q", owner, err, w.Group)
			}
			if err := w.Use(live.Credentials.Username, live.Credentials.Password); err != nil {
				t.Fatalf("the reaper touched a live lease: %v", err)
			}
			if rep := w.Svc.Reap(ctx); rep.Reaped != 0 || len(rep.Failures) != 0 {
				t.Fatalf("second reap: %+v", rep)
			}
			w.Clock.Advance(2 * time.Hour)
			if rep := w.Svc.Reap(ctx); rep.Reaped != 1 || len(rep.Failures) != 0 {
				t.Fatalf("last reap: %+v", rep)
			}
			if n := w.Users("v_app_"); n != 0 {
				t.Fatalf("%d lease users left after the last reap", n)
			}
		})
	}
}

// TestConcurrentIssue issues 100 leases, 10 at a time, on both engines:
// all distinct, all working.
func TestConcurrentIssue(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		t.Run(eng, func(t *testing.T) {
			t.Parallel()
			w := leasetest.New(t, eng)
			const n, inFlight = 100, 10
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
					leases[i], errs[i] = w.Svc.Handle(context.Background(), events.LeaseRequest{Role: "app"})
				}()
			}
			wg.Wait()
			seen := map[string]bool{}
			for i, l := range leases {
				if errs[i] != nil {
					t.Fatalf("issue %d: %v", i, errs[i])
				}
				w.Remember(l.Credentials.Password)
				if seen[l.Credentials.Username] || seen[l.Credentials.Password] {
					t.Fatalf("issue %d repeats a user name or password", i)
				}
				seen[l.Credentials.Username], seen[l.Credentials.Password] = true, true
			}
			for i, l := range leases {
				if err := w.Use(l.Credentials.Username, l.Credentials.Password); err != nil {
					t.Fatalf("lease %d: %v", i, err)
				}
			}
			w.Clock.Advance(time.Hour)
			if rep := w.Svc.Reap(context.Background()); rep.Reaped != n || len(rep.Failures) != 0 {
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
			w := leasetest.New(t, eng)
			ctx := context.Background()
			old := issue(t, w, 0)
			rot, err := rotation.New(rotation.Options{
				Secrets: w.SM,
				Strategies: func(name string) (strategies.Strategy, error) {
					return strategies.New(name, strategies.Options{Engines: builtin.Engines(), RootCAs: w.Pool})
				},
				DefaultStrategy: strategies.NameSingleUser,
				Password:        rotation.DefaultPasswordPolicy(),
				Logger:          slog.New(slog.NewJSONHandler(w.Logs, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			fn := w.Srv.FunctionARN("rotor-rotator")
			w.Srv.SetFunction(fn, awslocal.FuncInvoker(rot.Handle))
			if _, err := w.SM.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(w.AdminARN), RotationLambdaARN: aws.String(fn),
				RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}}); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if res, err := w.Srv.WaitRotation(wctx, w.AdminARN); err != nil || !res.Succeeded {
				t.Fatalf("rotate the admin secret: %+v, %v", res, err)
			}
			next := issue(t, w, 0)
			if err := w.Use(next.Credentials.Username, next.Credentials.Password); err != nil {
				t.Fatalf("lease issued after the admin rotation: %v", err)
			}
			if _, err := w.Svc.Handle(ctx, events.LeaseRequest{Action: events.LeaseRenew, Role: "app", Username: old.Credentials.Username, Password: old.Credentials.Password}); err != nil {
				t.Fatalf("renew a lease issued before the admin rotation: %v", err)
			}
			if err := w.Use(old.Credentials.Username, old.Credentials.Password); err != nil {
				t.Fatalf("lease issued before the admin rotation: %v", err)
			}
			if !strings.Contains(w.Logs.String(), "lease request served") {
				t.Fatal("no request was logged")
			}
		})
	}
}

// TestReapFailureIsReportedAndRetried: a PostgreSQL lease user that owns a
// table in another database cannot be dropped (REASSIGN OWNED acts in the
// admin's database). The reaper reports it (ERROR log, ReapIncomplete),
// leaves it unable to log in, and drops it on a later run once an operator
// has moved the table.
func TestReapFailureIsReportedAndRetried(t *testing.T) {
	t.Parallel()
	w := leasetest.New(t, "postgres")
	ctx := context.Background()
	pg := dbtest.Postgres(t)
	other := pg.NewDatabase(t)
	su := pg.AdminDB(t, other)
	grp := pgx.Identifier{w.Group}.Sanitize()
	if _, err := su.Exec(ctx, "GRANT CREATE ON SCHEMA public TO "+grp); err != nil {
		t.Fatal(err)
	}
	l := issue(t, w, 60)
	c := pg.ConnectAs(t, l.Credentials.Username, l.Credentials.Password, other)
	if _, err := c.Exec(ctx, "CREATE TABLE public.elsewhere (x int)"); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	w.Clock.Advance(2 * time.Minute)
	for range 2 {
		rep, err := w.Svc.HandleReap(ctx, nil)
		var re *lease.ReapError
		if !errors.As(err, &re) || re.ErrorType() != lease.TypeReapIncomplete || rep.Reaped != 0 || len(rep.Failures) != 1 ||
			rep.Failures[0].User != l.Credentials.Username || !strings.Contains(rep.Failures[0].Error, "object in database "+other) {
			t.Fatalf("reap: %+v, %v; want one failure naming %s and the objects that depend on it", rep, err, l.Credentials.Username)
		}
	}
	if !strings.Contains(w.Logs.String(), `"level":"ERROR","msg":"lease user could not be reaped`) {
		t.Fatalf("no ERROR line for the user left behind:\n%s", w.Logs.String())
	}
	if err := w.Use(l.Credentials.Username, l.Credentials.Password); err == nil {
		t.Fatal("a lease the reaper failed to drop still logs in")
	}
	if _, err := su.Exec(ctx, "ALTER TABLE public.elsewhere OWNER TO "+grp); err != nil {
		t.Fatal(err)
	}
	if rep, err := w.Svc.HandleReap(ctx, nil); err != nil || rep.Reaped != 1 {
		t.Fatalf("reap after the operator moved the table: %+v, %v", rep, err)
	}
}
