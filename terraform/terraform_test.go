package terraform_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// moduleDirs lists every module and example under this directory, and fails
// when fewer exist than the repository ships (a moved tree must not turn the
// checks into a silent no-op).
func moduleDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, parent := range []string{"modules", "examples"} {
		entries, err := os.ReadDir(parent)
		if err != nil {
			t.Fatalf("read %s: %v", parent, err)
		}
		for _, e := range entries {
			if e.IsDir() {
				dirs = append(dirs, filepath.Join(parent, e.Name()))
			}
		}
	}
	for _, want := range []string{
		"modules/rotator", "modules/rotated-secret", "modules/alerts", "modules/function", "modules/database-egress", "modules/leases",
		"examples/postgres-single-user", "examples/postgres-alternating-users", "examples/rds-managed-master", "examples/rds-master", "examples/leases",
	} {
		found := false
		for _, d := range dirs {
			found = found || filepath.ToSlash(d) == want
		}
		if !found {
			t.Fatalf("%s is missing; found %v", want, dirs)
		}
	}
	return dirs
}

func TestTerraformFmt(t *testing.T) {
	findings, err := FmtFindings(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Error(f)
	}
}

func TestModulesPassStaticChecks(t *testing.T) {
	t.Parallel()
	for _, dir := range moduleDirs(t) {
		t.Run(filepath.ToSlash(dir), func(t *testing.T) {
			t.Parallel()
			for _, f := range CheckModule(dir) {
				t.Error(f)
			}
		})
	}
}

// TestRotatorEnvCoversRequired guards the checker itself: the rotator
// module's calls of the function module must be found and their environment
// read (not skipped), and the rotator's must hold the required settings, so
// a checker that silently reads nothing would fail here.
func TestRotatorEnvCoversRequired(t *testing.T) {
	t.Parallel()
	files, err := parseDir("modules/rotator")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		for _, b := range f.body.Blocks {
			if b.Type == "resource" && len(b.Labels) == 2 && b.Labels[0] == "aws_lambda_function" {
				t.Errorf("modules/rotator declares aws_lambda_function.%s itself; its functions come from the %s module", b.Labels[1], functionModule)
			}
			if !isFunctionModuleCall(b) {
				continue
			}
			fn, ok := staticString(b.Body.Attributes["function"].Expr)
			if !ok {
				t.Fatalf("module.%s: function is not a literal", b.Labels[0])
			}
			seen[fn] = true
			env, ok := b.Body.Attributes["environment"]
			if !ok {
				t.Fatalf("module.%s sets no environment", b.Labels[0])
			}
			names, err := envNames(env.Expr, nil, 0)
			if err != nil {
				t.Fatalf("module.%s: %v", b.Labels[0], err)
			}
			if len(names) == 0 {
				t.Errorf("module.%s: no environment variables read", b.Labels[0])
			}
			for _, n := range requiredEnv[fn] {
				if !slices.Contains(names, n) {
					t.Errorf("module.%s (%s) does not set %s", b.Labels[0], fn, n)
				}
			}
		}
	}
	for _, fn := range []string{"rotator", "rotatenow"} {
		if !seen[fn] {
			t.Errorf("modules/rotator does not call the %s module with function = %q", functionModule, fn)
		}
	}
}

// copyDir copies a module directory (files only, no .terraform) into a new
// temporary directory, under the same base name (the checker knows the
// function module by its name), and returns it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, r), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, r), data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	return dst
}

// plant replaces exactly one occurrence of old with new in dir/file, so a
// planted test cannot pass because the text it edits has moved.
func plant(t *testing.T, dir, file, old, new string) {
	t.Helper()
	path := filepath.Join(dir, file)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), old); n != 1 {
		t.Fatalf("plant in %s: %q occurs %d times, want 1", file, old, n)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
