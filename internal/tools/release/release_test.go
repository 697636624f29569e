package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCheckVersion(t *testing.T) {
	for v, ok := range map[string]bool{
		"v1.2.3": true, "v0.1.0-rc.1": true, "v10.20.30": true,
		"": false, "1.2.3": false, "v1.2": false, "v1": false, "v1.2.3+build.5": false, "latest": false,
	} {
		if err := CheckVersion(v); (err == nil) != ok {
			t.Errorf("CheckVersion(%q) = %v, want ok=%v", v, err, ok)
		}
	}
}

// TestReleaseIsReproducible builds one function for this machine's
// architecture, with its SBOM, twice into two directories, and holds the
// result to what a release promises: the same bytes both times, a
// SHA256SUMS that verifies, a zip holding only an executable `bootstrap`,
// a CycloneDX SBOM naming the version and the modules linked in, and the
// version stamped into the binary, which logs it once at init. One
// function and one architecture keep it cheap; `make release` runs the
// same code for every artifact.
func TestReleaseIsReproducible(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	const version = "v0.0.0-test.1"
	plan := Plan{Functions: []string{"notifier"}, FunctionArchs: []string{runtime.GOARCH}, SBOM: true}
	build := func() (string, []string) {
		out := t.TempDir()
		names, err := Release(Options{Root: root, Version: version, Out: out, Log: testWriter{t}}, plan)
		if err != nil {
			t.Fatal(err)
		}
		return out, names
	}
	a, names := build()
	b, namesB := build()
	zipName := "rotor-notifier_" + version + "_linux_" + runtime.GOARCH + ".zip"
	want := []string{"rotor-notifier_" + version + "_linux_" + runtime.GOARCH + ".cdx.json", zipName, "SHA256SUMS"}
	if strings.Join(names, " ") != strings.Join(want, " ") || strings.Join(namesB, " ") != strings.Join(want, " ") {
		t.Fatalf("artifacts %v and %v, want %v", names, namesB, want)
	}
	for _, n := range names {
		x, errA := os.ReadFile(filepath.Join(a, n))
		y, errB := os.ReadFile(filepath.Join(b, n))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds of the same tree", n)
		}
	}

	// SHA256SUMS verifies, in sha256sum's format.
	sums, _ := os.ReadFile(filepath.Join(a, "SHA256SUMS"))
	lines := strings.Split(strings.TrimSpace(string(sums)), "\n")
	if len(lines) != len(names)-1 {
		t.Fatalf("SHA256SUMS has %d lines for %d artifacts:\n%s", len(lines), len(names)-1, sums)
	}
	for _, line := range lines {
		sum, name, ok := strings.Cut(line, "  ")
		data, err := os.ReadFile(filepath.Join(a, name))
		h := sha256.Sum256(data)
		if !ok || err != nil || hex.EncodeToString(h[:]) != sum {
			t.Errorf("SHA256SUMS line %q does not verify (%v)", line, err)
		}
	}

	// The zip: one executable bootstrap.
	zr, err := zip.OpenReader(filepath.Join(a, zipName))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		t.Fatalf("zip entries %v, want one bootstrap with mode 0755", zr.File)
	}

	// The SBOM: CycloneDX, this version, the modules in the binary.
	var bom struct {
		BOMFormat string `json:"bomFormat"`
		Metadata  struct {
			Component struct{ Name, Version string } `json:"component"`
		} `json:"metadata"`
		Components []struct{ Name, Version string } `json:"components"`
	}
	raw, _ := os.ReadFile(filepath.Join(a, want[0]))
	if err := json.Unmarshal(raw, &bom); err != nil {
		t.Fatalf("SBOM: %v", err)
	}
	var lambdaGo bool
	for _, c := range bom.Components {
		lambdaGo = lambdaGo || c.Name == "github.com/aws/aws-lambda-go"
	}
	if bom.BOMFormat != "CycloneDX" || bom.Metadata.Component.Version != version || !lambdaGo {
		t.Fatalf("SBOM format %q, version %q, aws-lambda-go listed %v", bom.BOMFormat, bom.Metadata.Component.Version, lambdaGo)
	}

	// The version is stamped: the function logs it at init, before it
	// finds it is not inside Lambda and stops.
	bin := filepath.Join(t.TempDir(), "bootstrap")
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	var code bytes.Buffer
	_, _ = code.ReadFrom(rc)
	rc.Close()
	if err := os.WriteFile(bin, code.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{}
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), `"msg":"starting","function":"notifier","version":"`+version+`"`) {
		t.Fatalf("the function's first log line does not carry its version:\n%s", out)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
