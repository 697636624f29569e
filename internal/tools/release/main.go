// Command release builds rotor's deployable artifacts, byte for byte the
// same on every run from the same source and Go toolchain:
//
//	release build   [-arch arm64] [-out dist]
//	    every function as <out>/<function>.zip, for `make build` and the
//	    Terraform modules' default zip paths;
//	release release -version vX.Y.Z [-out dist/release/vX.Y.Z]
//	    every function for arm64 and amd64 as
//	    rotor-<function>_<version>_linux_<arch>.zip, the CLI for linux and
//	    darwin on amd64 and arm64 as rotor_<version>_<os>_<arch>, a
//	    CycloneDX SBOM beside each (<artifact>.cdx.json, from the pinned
//	    `go tool cyclonedx-gomod`) and SHA256SUMS over all of them, in
//	    sha256sum's format (`sha256sum -c SHA256SUMS` verifies).
//
// The version is stamped into every binary through -ldflags -X
// (internal/version). Binaries are built with CGO_ENABLED=0, -trimpath and
// -buildvcs=false, so a clone and a source tarball of the same tree build
// the same bytes; zips hold one entry, `bootstrap`, mode 0755, with a fixed
// timestamp. An existing artifact of the same name is overwritten, so a run
// is safe to repeat.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/rotorhq/rotor/internal/lambdazip"
)

// versionVar is the variable the linker sets to the release version.
const versionVar = "github.com/rotorhq/rotor/internal/version.Version"

// FunctionArchs and CLIPlatforms are what a release builds.
var (
	FunctionArchs = []string{"arm64", "amd64"}
	CLIPlatforms  = []Platform{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}}
)

// Platform is a GOOS/GOARCH pair.
type Platform struct{ OS, Arch string }

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet("release "+os.Args[1], flag.ExitOnError)
	version := fs.String("version", "", "release version, a semantic version such as v1.2.3")
	out := fs.String("out", "", "output directory")
	arch := fs.String("arch", "arm64", "architecture of the functions (build only)")
	_ = fs.Parse(os.Args[2:])
	root, err := moduleRoot()
	if err != nil {
		fail(err)
	}
	switch os.Args[1] {
	case "build":
		if *out == "" {
			*out = "dist"
		}
		err = Build(Options{Root: root, Version: *version, Out: *out, Log: os.Stdout}, *arch)
	case "release":
		if *out == "" {
			*out = filepath.Join("dist", "release", *version)
		}
		_, err = Release(Options{Root: root, Version: *version, Out: *out, Log: os.Stdout}, Plan{
			Functions: nil, FunctionArchs: FunctionArchs, CLI: CLIPlatforms, SBOM: true,
		})
	default:
		usage()
	}
	if err != nil {
		fail(err)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: release build [-arch arm64] [-out dist] | release release -version vX.Y.Z [-out DIR]")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "release:", err)
	os.Exit(1)
}

// Options are what every build shares.
type Options struct {
	Root    string    // module root
	Version string    // stamped version; empty leaves it unstamped (build only)
	Out     string    // output directory, relative to the working directory or absolute
	Log     io.Writer // one line per artifact
}

// Plan is what Release builds; nil Functions means every functions/<name>.
type Plan struct {
	Functions     []string
	FunctionArchs []string
	CLI           []Platform
	SBOM          bool
}

// CheckVersion accepts a canonical semantic version with its leading v
// (v1.2.3, v1.2.3-rc.1), as Go modules and Git tags spell it.
func CheckVersion(v string) error {
	if v == "" {
		return errors.New("VERSION is missing: make release VERSION=v1.2.3")
	}
	if !semver.IsValid(v) || semver.Canonical(v) != v {
		return fmt.Errorf("VERSION=%q: want a semantic version such as v1.2.3 or v1.2.3-rc.1 (no build metadata)", v)
	}
	return nil
}

// Functions lists the function packages under functions/.
func Functions(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, errors.New("list functions: functions/ holds none")
	}
	return names, nil
}

// Build writes <Out>/<function>.zip for every function, for linux/arch.
func Build(o Options, arch string) error {
	if o.Version != "" {
		if err := CheckVersion(o.Version); err != nil {
			return err
		}
	}
	fns, err := Functions(o.Root)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	for _, fn := range fns {
		if _, err := o.functionZip(fn, arch, filepath.Join(o.Out, fn+".zip"), ""); err != nil {
			return err
		}
	}
	return nil
}

// Release builds plan into o.Out and returns the artifact names, in the
// order SHA256SUMS lists them (sorted), SHA256SUMS itself last.
func Release(o Options, plan Plan) ([]string, error) {
	if err := CheckVersion(o.Version); err != nil {
		return nil, err
	}
	fns := plan.Functions
	if fns == nil {
		var err error
		if fns, err = Functions(o.Root); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	var names []string
	for _, fn := range fns {
		for _, arch := range plan.FunctionArchs {
			base := fmt.Sprintf("rotor-%s_%s_linux_%s", fn, o.Version, arch)
			sbom := ""
			if plan.SBOM {
				sbom = base + ".cdx.json"
				names = append(names, sbom)
			}
			if _, err := o.functionZip(fn, arch, filepath.Join(o.Out, base+".zip"), sbom); err != nil {
				return nil, err
			}
			names = append(names, base+".zip")
		}
	}
	for _, p := range plan.CLI {
		name := fmt.Sprintf("rotor_%s_%s_%s", o.Version, p.OS, p.Arch)
		bin := filepath.Join(o.Out, name)
		if err := o.goBuild("./cmd/rotor", p, bin, nil); err != nil {
			return nil, err
		}
		names = append(names, name)
		if plan.SBOM {
			if err := o.sbom(bin, filepath.Join(o.Out, name+".cdx.json")); err != nil {
				return nil, err
			}
			names = append(names, name+".cdx.json")
		}
		fmt.Fprintf(o.Log, "built %s\n", bin)
	}
	slices.Sort(names)
	if err := WriteChecksums(o.Out, names); err != nil {
		return nil, err
	}
	return append(names, "SHA256SUMS"), nil
}

// functionZip builds functions/<fn> for linux/arch into a temporary
// bootstrap, writes the zip to out and, when sbom is not empty, the SBOM
// of that bootstrap to <dir of out>/<sbom>.
func (o Options) functionZip(fn, arch, out, sbom string) (string, error) {
	tmp, err := os.MkdirTemp("", "rotor-release-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bootstrap")
	if err := o.goBuild("./functions/"+fn, Platform{"linux", arch}, bin, []string{"-tags", "lambda.norpc"}); err != nil {
		return "", err
	}
	if sbom != "" {
		if err := o.sbom(bin, filepath.Join(filepath.Dir(out), sbom)); err != nil {
			return "", err
		}
	}
	if err := WriteZip(out, bin); err != nil {
		return "", fmt.Errorf("zip %s: %w", fn, err)
	}
	fmt.Fprintf(o.Log, "built %s (linux/%s)\n", out, arch)
	return out, nil
}

func (o Options) goBuild(pkg string, p Platform, out string, extra []string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	ldflags := "-s -w"
	if o.Version != "" {
		ldflags += " -X " + versionVar + "=" + o.Version
	}
	args := append([]string{"build"}, extra...)
	args = append(args, "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", abs, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s for %s/%s: %v\n%s", pkg, p.OS, p.Arch, err, b)
	}
	return nil
}

// sbom writes a CycloneDX JSON SBOM of the Go binary bin, from the module
// information Go embedded in it, with neither serial number nor timestamp
// so that it too is the same on every build.
func (o Options) sbom(bin, out string) error {
	absBin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "tool", "cyclonedx-gomod", "bin", "-json", "-std", "-noserial", "-notimestamp",
		"-version", o.Version, "-output", absOut, absBin)
	cmd.Dir = o.Root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("SBOM of %s: %v\n%s", filepath.Base(bin), err, b)
	}
	return nil
}

// WriteZip writes a Lambda deployment zip at out holding src as
// `bootstrap` (lambdazip.Bootstrap: executable, fixed timestamp, so its
// bytes depend on src's bytes only).
func WriteZip(out, src string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	z, err := lambdazip.Bootstrap(data)
	if err != nil {
		return err
	}
	return os.WriteFile(out, z, 0o644)
}

// WriteChecksums writes dir/SHA256SUMS: one "<hex>  <name>" line per name,
// in the given order.
func WriteChecksums(dir string, names []string) error {
	var b strings.Builder
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			return fmt.Errorf("checksum: %w", err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("checksum %s: %w", n, err)
		}
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), n)
	}
	return os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(b.String()), 0o644)
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("find the module root (go env GOMOD): %v", err)
	}
	return filepath.Dir(gomod), nil
}
