// Package sam_test checks sam/template.yaml offline: its SAM and
// Serverless Application Repository structure, that every reference
// resolves, and that the function is configured and scoped as the
// Terraform modules configure it (the settings it reads, the outcome tags
// it may write, an invoke permission bound to this account).
package sam_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rotorhq/rotor/internal/config"
	"github.com/rotorhq/rotor/rotation"
)

// load parses the template into plain values, turning CloudFormation's
// short forms (!Ref x, !Sub s, !GetAtt a.b, !If [...], ...) into their
// long forms ({"Ref": x}, {"Fn::Sub": s}, ...).
func load(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	v, err := convert(doc.Content[0])
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return v.(map[string]any)
}

func convert(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i < len(n.Content); i += 2 {
			val, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		var s []any
		for _, c := range n.Content {
			val, err := convert(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		v = n.Value
	case yaml.AliasNode:
		return nil, fmt.Errorf("line %d: YAML aliases are not CloudFormation", n.Line)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		name := strings.TrimPrefix(n.Tag, "!")
		switch name {
		case "Ref", "Condition":
			return map[string]any{name: v}, nil
		case "GetAtt":
			if s, ok := v.(string); ok {
				a, b, _ := strings.Cut(s, ".")
				v = []any{a, b}
			}
		}
		return map[string]any{"Fn::" + name: v}, nil
	}
	return v, nil
}

func mapAt(t *testing.T, m map[string]any, path ...string) map[string]any {
	t.Helper()
	cur := m
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			t.Fatalf("template.yaml: %s is missing or not a mapping", strings.Join(path, "."))
		}
		cur = next
	}
	return cur
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

// refs calls fn for every name a Ref, GetAtt, Sub or Condition refers to,
// with the kind of reference.
func refs(v any, fn func(kind, name string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			switch k {
			case "Ref":
				fn("Ref", fmt.Sprint(val))
			case "Condition":
				if s, ok := val.(string); ok {
					fn("Condition", s)
				}
			case "Fn::GetAtt":
				if s, ok := val.([]any); ok && len(s) == 2 {
					fn("GetAtt", fmt.Sprint(s[0]))
				}
			case "Fn::Sub":
				s, _ := val.(string)
				if l, ok := val.([]any); ok && len(l) > 0 {
					s, _ = l[0].(string)
				}
				for _, m := range subVar.FindAllStringSubmatch(s, -1) {
					name, _, _ := strings.Cut(m[1], ".")
					fn("Sub", name)
				}
			case "Fn::If":
				if l, ok := val.([]any); ok && len(l) == 3 {
					fn("Condition", fmt.Sprint(l[0]))
				}
			}
			refs(val, fn)
		}
	case []any:
		for _, e := range x {
			refs(e, fn)
		}
	}
}

func TestTemplateStructure(t *testing.T) {
	tpl := load(t)
	if tpl["AWSTemplateFormatVersion"] != "2010-09-09" || tpl["Transform"] != "AWS::Serverless-2016-10-31" {
		t.Fatalf("format version %v, transform %v", tpl["AWSTemplateFormatVersion"], tpl["Transform"])
	}
	app := mapAt(t, tpl, "Metadata", "AWS::ServerlessRepo::Application")
	for _, k := range []string{"Name", "Description", "Author", "SemanticVersion", "SourceCodeUrl", "HomePageUrl"} {
		if s, _ := app[k].(string); s == "" {
			t.Errorf("Metadata.AWS::ServerlessRepo::Application.%s is missing", k)
		}
	}

	params := mapAt(t, tpl, "Parameters")
	resources := mapAt(t, tpl, "Resources")
	conditions := mapAt(t, tpl, "Conditions")
	used := map[string]bool{}
	refs(tpl, func(kind, name string) {
		switch {
		case kind == "Condition":
			if conditions[name] == nil {
				t.Errorf("condition %q is not defined", name)
			}
		case strings.HasPrefix(name, "AWS::"):
			if !slices.Contains([]string{"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix", "AWS::NoValue", "AWS::StackName"}, name) {
				t.Errorf("%s to unknown pseudo parameter %q", kind, name)
			}
		case kind == "GetAtt":
			if resources[name] == nil {
				t.Errorf("GetAtt of unknown resource %q", name)
			}
		default:
			if params[name] == nil && resources[name] == nil {
				t.Errorf("%s to %q, which is neither a parameter nor a resource", kind, name)
			}
			used[name] = true
		}
	})
	for name, p := range params {
		if !used[name] {
			t.Errorf("parameter %s is never used", name)
		}
		if d, _ := p.(map[string]any)["Description"].(string); d == "" {
			t.Errorf("parameter %s has no Description", name)
		}
	}
	for name, o := range mapAt(t, tpl, "Outputs") {
		if o.(map[string]any)["Value"] == nil {
			t.Errorf("output %s has no Value", name)
		}
	}
}

func TestTemplateFunction(t *testing.T) {
	tpl := load(t)
	resources := mapAt(t, tpl, "Resources")
	var fnName string
	for name, r := range resources {
		if r.(map[string]any)["Type"] == "AWS::Serverless::Function" {
			if fnName != "" {
				t.Fatalf("two functions, %s and %s: the template is the rotator alone", fnName, name)
			}
			fnName = name
		}
	}
	if fnName == "" {
		t.Fatal("no AWS::Serverless::Function")
	}
	props := mapAt(t, resources, fnName, "Properties")
	for k, want := range map[string]string{"Runtime": "provided.al2023", "Handler": "bootstrap"} {
		if props[k] != want {
			t.Errorf("%s %v, want %s (a static Go bootstrap)", k, props[k], want)
		}
	}
	if s, _ := props["CodeUri"].(string); !strings.HasSuffix(s, ".zip") {
		t.Errorf("CodeUri %v, want a rotor zip", props["CodeUri"])
	}
	if lc := mapAt(t, props, "LoggingConfig"); lc["LogFormat"] != "JSON" || lc["ApplicationLogLevel"] == nil {
		t.Errorf("LoggingConfig %v: want JSON with an ApplicationLogLevel (read as AWS_LAMBDA_LOG_LEVEL)", lc)
	}

	// The environment: only settings the rotator reads, never one of
	// Lambda's reserved AWS_LAMBDA_* names, and the ones that must never
	// be implicit.
	env := mapAt(t, props, "Environment", "Variables")
	for k := range env {
		if !slices.Contains(config.FunctionEnv["rotator"], k) || strings.HasPrefix(k, "AWS_") {
			t.Errorf("Environment sets %s, which the rotator does not read from its environment block (config.FunctionEnv)", k)
		}
	}
	for _, k := range []string{config.EnvRotationStrategy, config.EnvDBTLS} {
		if env[k] == nil {
			t.Errorf("Environment does not set %s: the rotator must not run on an implicit %s", k, k)
		}
	}

	// Policies: no wildcard action; secret writes scoped to the secrets
	// whose rotation function this is; tags limited to the outcome keys.
	var statements []map[string]any
	var collect func(v any)
	collect = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if st, ok := x["Statement"].([]any); ok {
				for _, s := range st {
					statements = append(statements, s.(map[string]any))
				}
				return
			}
			for _, e := range x {
				collect(e)
			}
		case []any:
			for _, e := range x {
				collect(e)
			}
		}
	}
	collect(props["Policies"])
	if len(statements) == 0 {
		t.Fatal("no policy statements")
	}
	var tagKeys []string
	for _, st := range statements {
		var actions []string
		switch a := st["Action"].(type) {
		case string:
			actions = []string{a}
		case []any:
			for _, x := range a {
				actions = append(actions, fmt.Sprint(x))
			}
		}
		for _, a := range actions {
			if strings.Contains(a, "*") {
				t.Errorf("statement %v grants the wildcard action %s", st["Sid"], a)
			}
			write := slices.Contains([]string{"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage", "secretsmanager:TagResource"}, a)
			cond, _ := st["Condition"].(map[string]any)
			eq, _ := cond["StringEquals"].(map[string]any)
			if write && eq["secretsmanager:resource/AllowRotationLambdaArn"] == nil {
				t.Errorf("statement %v grants %s without the AllowRotationLambdaArn condition", st["Sid"], a)
			}
			if a == "secretsmanager:TagResource" {
				all, _ := cond["ForAllValues:StringEquals"].(map[string]any)
				for _, k := range all["aws:TagKeys"].([]any) {
					tagKeys = append(tagKeys, fmt.Sprint(k))
				}
				if null, _ := cond["Null"].(map[string]any); null["aws:TagKeys"] != "false" {
					t.Errorf("TagResource without Null aws:TagKeys false: a request without tag keys would pass ForAllValues")
				}
			}
		}
	}
	want := slices.Clone(rotation.RotatorTagKeys)
	sort.Strings(want)
	sort.Strings(tagKeys)
	if !slices.Equal(tagKeys, want) {
		t.Errorf("TagResource allowed for %v, rotation.RotatorTagKeys %v", tagKeys, want)
	}

	// Secrets Manager may invoke it, from this account only.
	var permitted bool
	for _, r := range resources {
		rm := r.(map[string]any)
		if rm["Type"] != "AWS::Lambda::Permission" {
			continue
		}
		p := rm["Properties"].(map[string]any)
		sa, _ := p["SourceAccount"].(map[string]any)
		if p["Principal"] == "secretsmanager.amazonaws.com" && sa["Ref"] == "AWS::AccountId" {
			permitted = true
		}
	}
	if !permitted {
		t.Error("no AWS::Lambda::Permission for secretsmanager.amazonaws.com with SourceAccount AWS::AccountId")
	}
}
