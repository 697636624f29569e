package rotation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rotorhq/rotor/events"
	"github.com/rotorhq/rotor/internal/local/awslocal"
	"github.com/rotorhq/rotor/internal/local/dbtest"
	"github.com/rotorhq/rotor/rotation"
	"github.com/rotorhq/rotor/strategies"
)

// TestManualPutRacingRotation: a person changes a secret by hand (a
// PutSecretValue without stages, as `aws secretsmanager put-secret-value`
// does) while rotor rotates it, just before each of the four steps. The
// manual value either works (the person set that password in the database
// first) or does not (a mistake). Secrets Manager abandons the rotation at
// the put (AWSPENDING is removed), so rotor's later steps find their token
// no longer AWSPENDING. Whatever happens: rotor never moves AWSCURRENT to a
// version that does not log in, no AWSPENDING is stranded, a working manual
// value stays AWSCURRENT and logs in, and the outcome tags never say
// succeeded for a rotation whose version is not AWSCURRENT.
func TestManualPutRacingRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{attempts: 1, backoff: -1})
	cases, held := 0, 0
	for _, strategy := range []string{strategies.NameSingleUser, strategies.NameAlternatingUsers} {
		for _, step := range events.Steps {
			for _, works := range []bool{true, false} {
				name := fmt.Sprintf("%s/before-%s/manual-value-works=%v", strategy, step, works)
				cases++
				var arn, user string
				if strategy == strategies.NameAlternatingUsers {
					arn, user = alternating(t, e, "admin-password-1")
					tagStrategy(t, e, arn, strategy)
				} else {
					user = dbtest.UniqueName("app")
					e.pg.CreateRole(t, user, "initial-password-1")
					arn = e.createSecret(dbtest.UniqueName("s"), e.doc(user, "initial-password-1", nil), nil)
				}
				manual := e.value(arn, rotation.LabelCurrent)
				manual.Username = user
				manual.Password = "manual-" + dbtest.UniqueName("pw")
				e.secrets = append(e.secrets, manual.Password)
				body, err := json.Marshal(manual)
				must(t, err, "marshal manual value")
				var manualVersion string
				e.hook = func(ctx context.Context, ev events.RotationEvent, next func() error) error {
					if ev.SecretID == arn && ev.Step == string(step) && manualVersion == "" {
						if works {
							must(t, e.pg.AlterPassword(ctx, user, manual.Password), "the person's ALTER ROLE")
						}
						out, err := e.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(string(body))})
						must(t, err, "the person's PutSecretValue")
						manualVersion = aws.ToString(out.VersionId)
					}
					return next()
				}
				res := e.rotate(arn)
				e.hook = nil
				if why := checkAfterManualPut(e, arn, res, manualVersion, works); why != "" {
					t.Errorf("%s: %s (rotation succeeded=%v at %s: %v)", name, why, res.Succeeded, res.Step, res.Err)
					continue
				}
				if !res.Succeeded && !strings.Contains(fmt.Sprint(res.Err), "abandons a rotation in progress") {
					t.Errorf("%s: the failed step's error does not say the rotation was abandoned: %v", name, res.Err)
				}
				held++
				t.Logf("%s: rotation succeeded=%v (stopped at %s: %v)", name, res.Succeeded, res.Step, res.Err)
			}
		}
	}
	t.Logf("manual PutSecretValue racing a rotation: %d cases, invariants held in %d", cases, held)
	fmt.Printf("manual put races: %d cases, %d held\n", cases, held)
}

// checkAfterManualPut returns why the secret is not as it must be after a
// rotation raced by a manual put of version manualVersion, or "".
func checkAfterManualPut(e *env, arn string, res awslocal.RotationResult, manualVersion string, works bool) string {
	if manualVersion == "" {
		return "the manual put never happened (the step was not invoked)"
	}
	labels := e.labels(arn)
	if v := events.StrandedPending(labels); v != "" {
		return "AWSPENDING stranded on version " + v
	}
	cur := events.VersionWith(labels, rotation.LabelCurrent)
	doc := e.value(arn, rotation.LabelCurrent)
	loginErr := e.canLogin(doc.Username, doc.Password)
	switch {
	case cur == res.VersionID && loginErr != nil:
		return "rotor moved AWSCURRENT to its version, which does not log in: " + loginErr.Error()
	case cur != res.VersionID && cur != manualVersion:
		return fmt.Sprintf("AWSCURRENT is on version %s, neither the rotation's nor the manual one", cur)
	case works && loginErr != nil:
		return "AWSCURRENT does not log in although the manual value worked: " + loginErr.Error()
	}
	tags := e.tags(arn)
	if tags[rotation.TagLastRotation] == rotation.OutcomeSucceeded && tags[rotation.TagLastVersion] != cur {
		return fmt.Sprintf("outcome tags say version %s succeeded, but AWSCURRENT is %s", tags[rotation.TagLastVersion], cur)
	}
	if res.Succeeded && cur != res.VersionID {
		return "the stand-in reports success, but AWSCURRENT is not the rotation's version"
	}
	return ""
}
