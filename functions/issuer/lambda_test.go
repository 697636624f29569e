package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/lease"
	"github.com/rotorhq/rotor/internal/lease/leasetest"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/internal/local/rietest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestBuiltFunctionsUnderTheEmulator builds the issuer and reaper
// bootstraps and runs each under the Lambda Runtime Interface Emulator, on
// PostgreSQL and on MariaDB, with the local Secrets Manager holding the
// admin secret: a lease is issued, used, renewed and revoked; requests over
// the maximum TTL, for an unknown role definition or with an unknown field
// are refused; a 2-second lease expires and the reaper drops it, keeping
// the table it created. No password appears in the functions' output or the
// server's log (leasetest's leak sweep).
func TestBuiltFunctionsUnderTheEmulator(t *testing.T) {
	issuerBin := rietest.Build(t, "./functions/issuer")
	reaperBin := rietest.Build(t, "./functions/reaper")
	for _, eng := range []string{"postgres", "mariadb"} {
		t.Run(eng, func(t *testing.T) {
			t.Parallel()
			w := leasetest.New(t, eng)
			env := []string{
				"AWS_ENDPOINT_URL=" + w.Srv.URL(), "AWS_REGION=" + w.SM.Options().Region,
				"AWS_ACCESS_KEY_ID=AKIDAWSLOCAL", "AWS_SECRET_ACCESS_KEY=awslocal-secret-key", "AWS_SESSION_TOKEN=",
				"LEASE_ROLES=" + w.Roles(leasetest.Role{Name: "app", DefaultTTL: 60, MaxTTL: 120}, leasetest.Role{Name: "short", DefaultTTL: 2, MaxTTL: 3}),
				"ADMIN_SECRET_ARNS=" + w.AdminARN, "DB_TLS=verify-full", "DB_CA_BUNDLE=" + w.CAFile, "DB_CONNECT_TIMEOUT=30s",
				"METRICS_NAMESPACE=RotorRIE", "LOG_LEVEL=debug",
			}
			issuer := rietest.Start(t, issuerBin, append(env, "AWS_LAMBDA_FUNCTION_NAME=rotor-issuer")...)
			reaper := rietest.Start(t, reaperBin, append(env, "AWS_LAMBDA_FUNCTION_NAME=rotor-reaper")...)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			invoke := func(emu *rietest.Emulator, payload string) ([]byte, error) {
				t.Helper()
				return (&awslocal.HTTPInvoker{URL: emu.URL}).Invoke(ctx, []byte(payload))
			}
			get := func(payload string) events.Lease {
				t.Helper()
				out, err := invoke(issuer, payload)
				if err != nil {
					t.Fatalf("invoke %s: %v", payload, err)
				}
				var l events.Lease
				if err := json.Unmarshal(out, &l); err != nil {
					t.Fatalf("answer: %v", err)
				}
				if l.Credentials != nil {
					w.Remember(l.Credentials.Password)
				}
				return l
			}
			refused := func(payload, errType, mentions string) {
				t.Helper()
				_, err := invoke(issuer, payload)
				var fe *awslocal.FunctionError
				if !errors.As(err, &fe) || fe.Type != errType || !strings.Contains(fe.Message, mentions) {
					t.Fatalf("invoke %s: %v, want errorType %s mentioning %q", payload, err, errType, mentions)
				}
			}

			app := get(`{"role":"app"}`)
			c := app.Credentials
			if err := w.Use(c.Username, c.Password); err != nil {
				t.Fatalf("lease from the built issuer: %v", err)
			}
			renewReq, _ := json.Marshal(events.LeaseRequest{Action: events.LeaseRenew, Role: "app", Username: c.Username, Password: c.Password, TTLSeconds: 120})
			if r := get(string(renewReq)); !r.ExpiresAt.After(app.ExpiresAt) {
				t.Fatalf("renew: %s, issued %s", r, app)
			}
			refused(`{"role":"app","ttlSeconds":500}`, lease.TypeInvalid, "maximum of 120")
			refused(`{"role":"nosuch"}`, lease.TypeInvalid, `"nosuch"`)
			refused(`{"role":"app","sql":"DROP TABLE probe"}`, lease.TypeInvalid, "unknown field")
			wrong, _ := json.Marshal(events.LeaseRequest{Action: events.LeaseRevoke, Role: "app", Username: c.Username, Password: "Wrong-Password-9x"})
			refused(string(wrong), lease.TypeDenied, "lease refused")

			short := get(`{"role":"short"}`)
			table := w.MakeTable(short.Credentials.Username, short.Credentials.Password)
			time.Sleep(time.Until(short.ExpiresAt) + 500*time.Millisecond)
			out, err := invoke(reaper, `{"version":"0","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)
			if err != nil {
				t.Fatalf("reaper: %v", err)
			}
			var rep lease.ReapReport
			if err := json.Unmarshal(out, &rep); err != nil || rep.Reaped != 1 || len(rep.Failures) != 0 || rep.Checked != 2 {
				t.Fatalf("reaper answered %s (%v), want one user reaped of two", out, err)
			}
			if n := w.Users("v_short_"); n != 0 {
				t.Fatalf("%d expired lease users left after the reaper ran", n)
			}
			if owner, err := w.Owner(table); err != nil || (eng == "postgres" && owner != w.Group) {
				t.Fatalf("the reaped user's table: owner %q, %v; want it kept, owned by %q", owner, err, w.Group)
			}

			revokeReq, _ := json.Marshal(events.LeaseRequest{Action: events.LeaseRevoke, Role: "app", Username: c.Username, Password: c.Password})
			if v := get(string(revokeReq)); !v.Revoked {
				t.Fatalf("revoke: %+v", v)
			}
			if err := w.Use(c.Username, c.Password); err == nil {
				t.Fatal("a revoked lease still logs in")
			}

			issued := issuer.WaitOutput(t, func(o string) bool { return strings.Count(o, `"msg":"lease request served"`) >= 4 })
			if !strings.Contains(issued, `"LeasesIssued":1`) || !strings.Contains(issued, `"LeasesRefused":1`) {
				t.Fatalf("the issuer wrote no lease metrics:\n%s", issued)
			}
			reaped := reaper.WaitOutput(t, func(o string) bool { return strings.Contains(o, `"LeasesReaped":1`) })
			w.AddLeakOutput("the issuer's output", issued)
			w.AddLeakOutput("the reaper's output", reaped)
		})
	}
}
