package secretscan_test

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// allowListed are the files .gitleaks.toml names, with the fake values in
// them it lets through. The test copies them as they are in the repository.
var allowListed = map[string][]string{
	"events/testdata/rotation_event.json":                     {"3b2d5f0e-8c1a-4e55-9a53-2f5b7d9c1e42", "b7e0c2d4-1f3a-4c5e-8d9b-0a1b2c3d4e5f"},
	"events/testdata/eventbridge_api_call_rotate_secret.json": {"3b2d5f0e-8c1a-4e55-9a53-2f5b7d9c1e42"},
	"terraform/modules/rotated-secret/tests/plan.tftest.hcl":  {`"initial-password-1"`},
	"events/fuzz_test.go":                                     {"p4ssw0rd-long"},
	"docs/reliability.md":                                     {"missing/empty/wrongly"},
}

// finding is the part of a gitleaks JSON report the test reads.
type finding struct {
	RuleID string
	File   string
	Secret string
}

// TestAllowListHidesOnlyTheFixtures runs gitleaks, as scripts/scan-secrets.sh
// does (the pinned `go tool gitleaks` with the repository's .gitleaks.toml),
// over a temporary tree holding copies of the allow-listed fixtures with
// realistic secrets planted in and around them. Every planted secret must be
// reported, the allow-listed values outside their own file too, and the
// fixtures' own fake values must not be. The planted values are made here
// from a fixed seed, never written in the repository (its own scan would
// report them), and realistic: an AWS access key ID and a 40-character
// secret access key as AWS issues them, a random password.
func TestAllowListHidesOnlyTheFixtures(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(root, ".gitleaks.toml")
	if _, err := os.Stat(config); err != nil {
		t.Fatalf("the repository's gitleaks configuration: %v", err)
	}
	// The tool's binary, built from go.mod's pin; run from the scanned tree
	// so that finding paths are relative to it, as in the repository scan.
	cmd := exec.Command("go", "tool", "-n", "gitleaks")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go tool -n gitleaks (pinned in go.mod): %v", err)
	}
	gitleaks := strings.TrimSpace(string(out))

	rng := rand.New(rand.NewChaCha8([32]byte{'r', 'o', 't', 'o', 'r'}))
	draw := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	const (
		upperBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
		base64ish   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		lowerAlnum  = "abcdefghijklmnopqrstuvwxyz0123456789"
	)
	accessKeyID := "AKIA" + draw(upperBase32, 16)
	secretKey := draw(base64ish, 40)
	secretKeyInFixture := draw(base64ish, 40)
	password := `"` + draw(lowerAlnum, 16) + `"`

	tree := filepath.Join(t.TempDir(), "tree")
	for file := range allowListed {
		b, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		write(t, tree, file, string(b))
	}
	// want: each planted secret, by the file it is planted in.
	want := map[[2]string]bool{}
	plant := func(file, text, secret string) {
		t.Helper()
		b, _ := os.ReadFile(filepath.Join(tree, file))
		write(t, tree, file, string(b)+text+"\n")
		want[[2]string{file, secret}] = true
	}
	// A new file, and inside each kind of allow-listed fixture.
	plant("deploy/prod.env", "AWS_ACCESS_KEY_ID="+accessKeyID, accessKeyID)
	plant("deploy/prod.env", "AWS_SECRET_ACCESS_KEY="+secretKey, secretKey)
	plant("events/testdata/rotation_event.json", `  "aws_secret_access_key": "`+secretKeyInFixture+`"`, secretKeyInFixture)
	plant("terraform/modules/rotated-secret/tests/plan.tftest.hcl", "  password_wo = "+password, password)
	// The allow-listed values themselves, copied to files not allow-listed.
	plant("terraform/examples/copied/main.tf", `  password_wo = "initial-password-1"`, `"initial-password-1"`)
	token := allowListed["events/testdata/rotation_event.json"][1]
	plant("events/testdata/copied.json", `  "RotationToken": "`+token+`"`, token)

	report := filepath.Join(filepath.Dir(tree), "report.json")
	scan := exec.Command(gitleaks, "dir", "--no-banner", "--no-color", "--config", config,
		"--report-format", "json", "--report-path", report, "--exit-code", "3", ".")
	scan.Dir = tree
	log, err := scan.CombinedOutput()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 3 {
		t.Fatalf("gitleaks dir: %v (want exit 3, leaks found)\n%s", err, log)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var findings []finding
	if err := json.Unmarshal(b, &findings); err != nil {
		t.Fatalf("gitleaks report: %v", err)
	}

	got, reported := map[[2]string]bool{}, 0
	for _, f := range findings {
		file := filepath.ToSlash(filepath.Clean(f.File))
		got[[2]string{file, f.Secret}] = true
		for _, fake := range allowListed[file] {
			if f.Secret == fake {
				t.Errorf("%s: the allow-listed fake value %s reported (rule %s): .gitleaks.toml no longer covers it", file, fake, f.RuleID)
			}
		}
	}
	for k := range want {
		if got[k] {
			reported++
		} else {
			t.Errorf("%s: the planted secret %.6s… not reported: the allow-list or the rules hide it", k[0], k[1])
		}
	}
	t.Logf("%d findings; %d of %d planted secrets reported", len(findings), reported, len(want))
}

// write creates dir/file with text, and its directories.
func write(t *testing.T, dir, file, text string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCINeverTraces keeps CI's entry point and the scripts it runs from
// tracing commands (set -x and its spellings): a trace prints the values
// commands are given, and CI logs are read by more people than secrets are.
// .ci/run also turns tracing off explicitly, in case its caller turned it on.
func TestCINeverTraces(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "scripts", "*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(root, ".ci", "run"), filepath.Join(root, "Makefile"))
	tracing := regexp.MustCompile(`(^|[\s;&|(/])(set\s+-[a-wyzA-Z]*x|set\s+-o\s+xtrace|(ba|da|z)?sh\s+-[a-wyzA-Z]*x|SHELLOPTS=\S*xtrace)`)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if code, _, _ := strings.Cut(line, "#"); i > 0 || !strings.HasPrefix(line, "#!") {
				line = code
			}
			if tracing.MatchString(line) {
				t.Errorf("%s:%d traces commands: %s", file, i+1, strings.TrimSpace(line))
			}
		}
	}
	run, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^set \+x\b`).Match(run) {
		t.Errorf(".ci/run does not turn tracing off (set +x)")
	}
}
