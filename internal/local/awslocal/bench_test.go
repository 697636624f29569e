package awslocal_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/awslocal/awslocaltest"
)

// BenchmarkStandInAtScale measures the stand-in with a state file holding
// 100, 1,000 and 10,000 secrets: one request at a time over HTTP with the
// real SDK, so ns/op is the per-request cost a client sees (µs/request is
// the same figure, for the table). GetSecretValue reads secrets already
// read today (LastAccessedDate unchanged: nothing to persist);
// PutSecretValue adds a version to a different secret each time (a journal
// append and a sync, and its share of the snapshots), then from 32 clients
// at once (group commits: one sync for the writes that queued together);
// ListSecrets walks the
// list 100 secrets a page with NextToken. Run with a fixed -benchtime (make
// bench uses 200x): a secret takes at most 100 versions a day.
func BenchmarkStandInAtScale(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("secrets=%d", n), func(b *testing.B) {
			_, cfg := awslocaltest.NewWith(b, awslocal.Options{StateFile: filepath.Join(b.TempDir(), "state.json")})
			sm := secretsmanager.NewFromConfig(cfg)
			ctx := context.Background()
			names := seed(b, sm, n)
			for _, name := range names[:min(n, 100)] {
				if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)}); err != nil {
					b.Fatal(err)
				}
			}
			perRequest := func(b *testing.B) {
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/request")
			}
			b.Run("GetSecretValue", func(b *testing.B) {
				for i := range b.N {
					if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(names[i%min(n, 100)])}); err != nil {
						b.Fatal(err)
					}
				}
				perRequest(b)
			})
			b.Run("DescribeSecret", func(b *testing.B) {
				for i := range b.N {
					if _, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(names[(i*7919)%n])}); err != nil {
						b.Fatal(err)
					}
				}
				perRequest(b)
			})
			round := 0
			b.Run("PutSecretValue", func(b *testing.B) {
				round++
				for i := range b.N {
					_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(names[(i*7919)%n]),
						SecretString: aws.String(fmt.Sprintf("v-%d-%d", round, i))})
					if err != nil {
						b.Fatal(err)
					}
				}
				perRequest(b)
			})
			// 32 clients at once: the writes share group commits.
			b.Run("PutSecretValue32Clients", func(b *testing.B) {
				var seq atomic.Int64
				b.SetParallelism(16)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := int(seq.Add(1))
						_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(names[(i*7919+13)%n]),
							SecretString: aws.String(fmt.Sprintf("p-%d", i))})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
				perRequest(b)
			})
			b.Run("ListSecretsPage", func(b *testing.B) {
				var next *string
				for range b.N {
					out, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(100), NextToken: next})
					if err != nil || len(out.SecretList) == 0 {
						b.Fatalf("ListSecrets: %d secrets, %v", len(out.SecretList), err)
					}
					next = out.NextToken
				}
				perRequest(b)
			})
		})
	}
}

// seed creates n secrets, 32 requests at a time (a group commit each).
func seed(b *testing.B, sm *secretsmanager.Client, n int) []string {
	b.Helper()
	names := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 32 {
				names[i] = fmt.Sprintf("scale/app-%05d", i)
				_, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(names[i]),
					SecretString: aws.String(`{"engine":"postgres","host":"db.internal","port":5432,"username":"app","password":"not-a-real-one"}`)})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return names
}
