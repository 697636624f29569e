package terraform_test

import (
	"strings"
	"testing"

	"github.com/rotorhq/rotor/internal/tfdocs"
)

// TestReadmeTablesAreCurrent holds every module's and example's README to
// its declarations: the input/output tables between the terraform-docs
// markers must be what `make docs` generates from variables.tf and
// outputs.tf now.
func TestReadmeTablesAreCurrent(t *testing.T) {
	for _, dir := range moduleDirs(t) {
		current, want, err := tfdocs.Check(dir)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		if !strings.Contains(want, tfdocs.Begin) {
			t.Errorf("%s/README.md: no generated tables", dir)
		}
		if !current {
			t.Errorf("%s/README.md: input/output tables are out of date; run `make docs`", dir)
		}
	}
}

func TestReadmeUpdateKeepsTheProse(t *testing.T) {
	section := tfdocs.Begin + "\nnew\n" + tfdocs.End + "\n"
	got, err := tfdocs.Update("# m\n\nprose\n\n"+tfdocs.Begin+"\nold\n"+tfdocs.End+"\n\n## After\n", section)
	if err != nil || got != "# m\n\nprose\n\n"+section+"\n## After\n" {
		t.Fatalf("Update = %q, %v", got, err)
	}
	if _, err := tfdocs.Update("x "+tfdocs.End+" "+tfdocs.Begin, section); err == nil {
		t.Fatal("markers out of order must be an error")
	}
}
