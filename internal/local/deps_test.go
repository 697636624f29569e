package local_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// failpointPkg is the fault injection only test builds (-tags failpoints)
// may link.
const failpointPkg = "github.com/rotorhq/rotor/internal/failpoint"

// coldStartWeights are SDK packages the functions keep off their init path
// (docs/performance.md has the figures), with what they use instead.
var (
	coldStartWeights     = []string{"github.com/aws/aws-sdk-go-v2/service/rds", "github.com/aws/aws-sdk-go-v2/config"}
	coldStartAlternative = map[string]string{
		"github.com/aws/aws-sdk-go-v2/service/rds": "internal/rdsapi",
		"github.com/aws/aws-sdk-go-v2/config":      "lambdafn.AWSConfig",
	}
)

// TestShippedBinariesLinkNoTestHelpers keeps package testing (and with it
// every ...test helper) and the database fault points (internal/failpoint)
// out of the CLI and the Lambda functions, and the cold-start weights out
// of the functions.
func TestShippedBinariesLinkNoTestHelpers(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}", "github.com/rotorhq/rotor/cmd/rotor", "github.com/rotorhq/rotor/functions/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	bins := strings.Fields(string(out))
	if len(bins) < 7 {
		t.Fatalf("go list found %d binaries (%v); want the CLI and every function", len(bins), bins)
	}
	for _, bin := range bins {
		deps, err := exec.Command("go", "list", "-deps", bin).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", bin, err)
		}
		for _, d := range strings.Fields(string(deps)) {
			if d == "testing" || strings.HasSuffix(d, "test") && strings.HasPrefix(d, "github.com/rotorhq/rotor/") {
				t.Errorf("%s links %s: test helpers belong in ...test packages used only by tests", bin, d)
			}
			if d == failpointPkg {
				t.Errorf("%s links %s: fault points belong in files built only with the failpoints tag", bin, d)
			}
			if strings.HasPrefix(bin, "github.com/rotorhq/rotor/functions/") && slices.Contains(coldStartWeights, d) {
				t.Errorf("%s links %s, whose package initialisation runs on every cold start (docs/performance.md): use %s", bin, d, coldStartAlternative[d])
			}
		}
	}
	// The check can see the fault points: a test build of the rotator
	// function links them.
	deps, err := exec.Command("go", "list", "-deps", "-tags", "failpoints", "github.com/rotorhq/rotor/functions/rotator").Output()
	if err != nil {
		t.Fatalf("go list -deps -tags failpoints: %v", err)
	}
	if !slices.Contains(strings.Fields(string(deps)), failpointPkg) {
		t.Errorf("the rotator built with -tags failpoints does not link %s: the engines' hooks are gone, so the check above proves nothing", failpointPkg)
	}
}
