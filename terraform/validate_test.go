package terraform_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// providerVersion is the hashicorp/aws version the test mirrors when no
// mirror is at hand: one every module's constraint admits.
const providerVersion = "5.100.0"

// pluginDir returns a local provider mirror holding hashicorp/aws:
// TF_PLUGIN_DIR, /opt/tf-plugins, or the user cache, which it fills with
// `terraform providers mirror` when the registry can be reached. It fails
// the test, with the command to run, when none can be had: the module
// tests (validate, plan tests, moved-block tests) must not vanish quietly.
func pluginDir(t *testing.T, bin string) string {
	t.Helper()
	cache, _ := os.UserCacheDir()
	if cache != "" {
		cache = filepath.Join(cache, "rotor", "tf-plugins")
	}
	for _, dir := range []string{os.Getenv("TF_PLUGIN_DIR"), "/opt/tf-plugins", cache} {
		if dir == "" {
			continue
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "registry.terraform.io", "hashicorp", "aws", "*")); len(m) > 0 {
			return dir
		}
	}
	cmdText := fmt.Sprintf("terraform providers mirror -platform=%s_%s %s (in a directory whose .tf requires hashicorp/aws = %s)", runtime.GOOS, runtime.GOARCH, cache, providerVersion)
	if cache == "" {
		t.Fatalf("no hashicorp/aws provider mirror and no cache directory: set TF_PLUGIN_DIR to a mirror made with %s", cmdText)
	}
	src := t.TempDir()
	cfg := fmt.Sprintf("terraform {\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \"%s\"\n    }\n  }\n}\n", providerVersion)
	if err := os.WriteFile(filepath.Join(src, "main.tf"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "providers", "mirror", "-platform="+runtime.GOOS+"_"+runtime.GOARCH, cache)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("no hashicorp/aws provider mirror (TF_PLUGIN_DIR, /opt/tf-plugins, %s), and making one failed (%v): run %s where registry.terraform.io is reachable, or set TF_PLUGIN_DIR to a copy\n%s", cache, err, cmdText, out)
	}
	return cache
}

// TestValidateWithLocalProvider runs terraform validate (and terraform test,
// where a module has tests/) on every module and example against a local
// provider mirror (pluginDir: found, or made once when the registry can be
// reached; the test fails, naming the command, when neither works).
func TestValidateWithLocalProvider(t *testing.T) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal("terraform is not on PATH: install Terraform >= 1.11")
	}
	plugins := pluginDir(t, bin)
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
