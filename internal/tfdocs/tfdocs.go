// Package tfdocs writes the input and output tables of a Terraform module's
// README in terraform-docs' markdown table format, from the module's own
// declarations (read with terraform-config-inspect), between the markers
// terraform-docs uses:
//
//	<!-- BEGIN_TF_DOCS -->
//	...
//	<!-- END_TF_DOCS -->
//
// so the tables cannot drift from variables.tf and outputs.tf: CI
// regenerates them and fails when the README differs (terraform/
// readme_test.go); `make docs` rewrites them.
package tfdocs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-config-inspect/tfconfig"
)

// Markers delimit the generated part of a README.
const (
	Begin = "<!-- BEGIN_TF_DOCS -->"
	End   = "<!-- END_TF_DOCS -->"
)

// Render returns the generated section for the module in dir, markers
// included: its requirements, inputs and outputs, each sorted by name.
func Render(dir string) (string, error) {
	mod, diags := tfconfig.LoadModule(dir)
	if diags.HasErrors() {
		return "", fmt.Errorf("read module %s: %w", dir, diags.Err())
	}
	var b strings.Builder
	b.WriteString(Begin + "\n")

	b.WriteString("## Requirements\n\n| Name | Version |\n|------|---------|\n")
	if len(mod.RequiredCore) > 0 {
		fmt.Fprintf(&b, "| %s [terraform](#requirement\\_terraform) | %s |\n", anchor("requirement_terraform"), cell(strings.Join(mod.RequiredCore, ", ")))
	}
	for _, name := range sortedKeys(mod.RequiredProviders) {
		fmt.Fprintf(&b, "| %s [%s](#requirement\\_%s) | %s |\n", anchor("requirement_"+name), name, escapeName(name),
			cell(strings.Join(mod.RequiredProviders[name].VersionConstraints, ", ")))
	}

	b.WriteString("\n## Inputs\n\n")
	if len(mod.Variables) == 0 {
		b.WriteString("No inputs.\n")
	} else {
		b.WriteString("| Name | Description | Type | Default | Required |\n|------|-------------|------|---------|:--------:|\n")
		for _, name := range sortedKeys(mod.Variables) {
			v := mod.Variables[name]
			def, req := "n/a", "yes"
			if !v.Required {
				req = "no"
				d, err := defaultValue(v.Default)
				if err != nil {
					return "", fmt.Errorf("variable %q default: %w", name, err)
				}
				def = d
			}
			typ := v.Type
			if typ == "" {
				typ = "any"
			}
			fmt.Fprintf(&b, "| %s [%s](#input\\_%s) | %s | %s | %s | %s |\n",
				anchor("input_"+name), name, escapeName(name), cell(v.Description), code(typ), def, req)
		}
	}

	b.WriteString("\n## Outputs\n\n")
	if len(mod.Outputs) == 0 {
		b.WriteString("No outputs.\n")
	} else {
		b.WriteString("| Name | Description |\n|------|-------------|\n")
		for _, name := range sortedKeys(mod.Outputs) {
			fmt.Fprintf(&b, "| %s [%s](#output\\_%s) | %s |\n", anchor("output_"+name), name, escapeName(name), cell(mod.Outputs[name].Description))
		}
	}
	b.WriteString(End + "\n")
	return b.String(), nil
}

// Update returns readme with its generated section replaced by section,
// or section appended when readme has none. A README with one marker and
// not the other is an error, not a guess.
func Update(readme, section string) (string, error) {
	i, j := strings.Index(readme, Begin), strings.Index(readme, End)
	switch {
	case i < 0 && j < 0:
		return strings.TrimRight(readme, "\n") + "\n\n" + section, nil
	case i < 0 || j < i:
		return "", errors.New("README has an unmatched " + Begin + " / " + End + " pair")
	}
	rest := readme[j+len(End):]
	rest = strings.TrimPrefix(rest, "\n")
	return readme[:i] + section + rest, nil
}

// Check reports whether dir/README.md's generated section is current,
// returning the README as it should be when it is not.
func Check(dir string) (current bool, want string, err error) {
	section, err := Render(dir)
	if err != nil {
		return false, "", err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		return false, "", err
	}
	want, err = Update(string(raw), section)
	if err != nil {
		return false, "", fmt.Errorf("%s/README.md: %w", dir, err)
	}
	return want == string(raw), want, nil
}

func anchor(id string) string { return `<a name="` + id + `"></a>` }

// escapeName escapes underscores in link targets as terraform-docs does.
func escapeName(s string) string { return strings.ReplaceAll(s, "_", "\\_") }

// cell makes text safe inside a table cell: pipes escaped, line breaks
// as <br>.
func cell(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", "<br>")
}

// code formats a type or value: inline code on one line, a <pre> block
// when it spans several.
func code(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "\n") {
		return "`" + strings.ReplaceAll(s, "|", "\\|") + "`"
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(strings.ReplaceAll(l, "|", "\\|"), "  ", "&nbsp;&nbsp;")
	}
	return "<pre>" + strings.Join(lines, "<br>") + "</pre>"
}

func defaultValue(v any) (string, error) {
	if v == nil {
		return "`null`", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return code(string(b)), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
