package terraform_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// pluginDir returns a local provider mirror holding hashicorp/aws, or "".
func pluginDir() string {
	for _, dir := range []string{os.Getenv("TF_PLUGIN_DIR"), "/opt/tf-plugins"} {
		if dir == "" {
			continue
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "registry.terraform.io", "hashicorp", "aws", "*")); len(m) > 0 {
			return dir
		}
	}
	return ""
}

// TestValidateWithLocalProvider runs terraform validate (and terraform test,
// where a module has tests/) on every module and example when a provider
// mirror is at hand. Without one it is skipped: the
// provider cannot be downloaded here, and the static checks above cover what
// can be checked without it.
func TestValidateWithLocalProvider(t *testing.T) {
	plugins := pluginDir()
	if plugins == "" {
		t.Skip("no local hashicorp/aws provider mirror (set TF_PLUGIN_DIR); terraform validate needs one")
	}
	bin, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal("terraform is not on PATH: install Terraform >= 1.5")
	}
	// Examples refer to ../../modules, so the whole tree is copied once.
	root := copyDir(t, ".")
	for _, dir := range moduleDirs(t) {
		t.Run(filepath.ToSlash(dir), func(t *testing.T) {
			work := filepath.Join(root, dir)
			run := func(args ...string) {
				t.Helper()
				cmd := exec.Command(bin, args...)
				cmd.Dir = work
				cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("terraform %v: %v\n%s", args, err, out)
				}
			}
			run("init", "-backend=false", "-input=false", "-no-color", "-plugin-dir="+plugins)
			run("validate", "-no-color")
			// Plan-only `terraform test` files use fake credentials and
			// overrides, so they run offline too.
			if tests, _ := filepath.Glob(filepath.Join(work, "tests", "*.tftest.hcl")); len(tests) > 0 {
				run("test", "-no-color")
			}
		})
	}
}
