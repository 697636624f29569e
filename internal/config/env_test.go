package config_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/config"
)

const configPath = "github.com/rotorhq/rotor/internal/config"

// envConstants maps each Env* constant's name to its value, read from this
// package's source.
func envConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "env.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Values) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Env") {
			return true
		}
		if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
			v, _ := strconv.Unquote(lit.Value)
			out[vs.Names[0].Name] = v
		}
		return true
	})
	return out
}

// referenced returns the values of the config.Env* constants used by pkg
// and every package of this module it imports.
func referenced(t *testing.T, pkg string, consts map[string]string) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,GoFiles", pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	used := map[string]bool{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath, Dir string
			GoFiles         []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.ImportPath, "github.com/rotorhq/rotor/") || p.ImportPath == configPath {
			continue
		}
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			local := ""
			for _, imp := range f.Imports {
				if path, _ := strconv.Unquote(imp.Path.Value); path == configPath {
					local = "config"
					if imp.Name != nil {
						local = imp.Name.Name
					}
				}
			}
			if local == "" {
				continue
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == local {
						if v, ok := consts[sel.Sel.Name]; ok {
							used[v] = true
						}
					}
				}
				return true
			})
		}
	}
	return used
}

// TestFunctionEnvMatchesTheCode holds FunctionEnv, which the Terraform
// checks trust, to the code: every setting listed for a function is read
// by that function's code (no stale names), and every Env constant is
// listed for some function (no setting a deployment could never set).
func TestFunctionEnvMatchesTheCode(t *testing.T) {
	consts := envConstants(t)
	listed := map[string]bool{}
	for fn, names := range config.FunctionEnv {
		used := referenced(t, "github.com/rotorhq/rotor/functions/"+fn, consts)
		for _, n := range names {
			listed[n] = true
			if !used[n] {
				t.Errorf("FunctionEnv[%q] lists %s, which functions/%s never reads", fn, n, fn)
			}
		}
		if dup := len(names) - len(slices.Compact(slices.Sorted(slices.Values(names)))); dup > 0 {
			t.Errorf("FunctionEnv[%q] lists a name twice", fn)
		}
	}
	for name, v := range consts {
		if !listed[v] {
			t.Errorf("%s (%s) is read by no function in FunctionEnv", name, v)
		}
	}
	if reflect.DeepEqual(consts, map[string]string{}) {
		t.Fatal("no Env constants found: the test would prove nothing")
	}
}
