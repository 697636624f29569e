package terraform_test

// The offline checker for rotor's Terraform. Each check returns findings
// instead of failing a test, so the same code runs over the real modules
// (expecting none) and over copies with one planted mistake (expecting
// exactly that one).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"github.com/zclconf/go-cty/cty"

	"github.com/rotorhq/rotor/internal/config"
)

// Check identifiers, one per rule.
const (
	CheckParse           = "parse"
	CheckFmt             = "fmt"
	CheckVariableType    = "variable-type"
	CheckVariableDesc    = "variable-description"
	CheckVariableName    = "variable-name"
	CheckOutputDesc      = "output-description"
	CheckVersions        = "versions"
	CheckReadme          = "readme"
	CheckIAMWildcard     = "iam-wildcard"
	CheckSourceAccount   = "lambda-permission-source-account"
	CheckLambdaEnv       = "lambda-env"
	CheckSecretVersionWO = "secret-version-write-only"
	CheckSecretVersionLb = "secret-version-stages-ignored"
	CheckPasswordVar     = "password-variable-ephemeral"
	CheckTags            = "tags"
)

// Finding is one problem in one module directory.
type Finding struct {
	Check string
	Pos   string // file:line, relative to the module directory
	Msg   string
}

func (f Finding) String() string { return fmt.Sprintf("[%s] %s: %s", f.Check, f.Pos, f.Msg) }

// Actions with no resource-level permissions, which AWS only accepts on
// Resource "*". They return metadata or random bytes, never a secret.
var allowedOnStar = map[string]bool{
	"secretsmanager:listsecrets":       true,
	"secretsmanager:getrandompassword": true,
}

// requiredEnv lists the settings a function's environment must set: the
// rotator must never run on an implicit strategy or TLS mode.
var requiredEnv = map[string][]string{
	"rotator": {config.EnvRotationStrategy, config.EnvDBTLS},
}

// taggable lists the resource types rotor's modules create that take tags;
// each must set them, so a module's `tags` reach every resource.
var taggable = map[string]bool{
	"aws_cloudwatch_log_group": true, "aws_iam_role": true, "aws_lambda_function": true,
	"aws_kms_key": true, "aws_sns_topic": true, "aws_cloudwatch_event_rule": true,
	"aws_cloudwatch_metric_alarm": true, "aws_security_group": true,
	"aws_vpc_security_group_egress_rule": true, "aws_vpc_security_group_ingress_rule": true,
	"aws_vpc_endpoint": true, "aws_secretsmanager_secret": true,
}

// passwordVar matches the names of variables that hold a password.
var passwordVar = regexp.MustCompile(`(^|_)password(_wo)?$`)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// CheckModule runs every static check over one module or example directory.
func CheckModule(dir string) []Finding {
	var out []Finding
	add := func(check string, rng hcl.Range, format string, args ...any) {
		out = append(out, Finding{Check: check, Pos: posOf(dir, rng), Msg: fmt.Sprintf(format, args...)})
	}

	// terraform-config-inspect: variables, outputs, required versions.
	mod, diags := tfconfig.LoadModule(dir)
	if diags.HasErrors() {
		return []Finding{{Check: CheckParse, Pos: dir, Msg: diags.Error()}}
	}
	for _, v := range sortedValues(mod.Variables) {
		pos := fmt.Sprintf("%s:%d", rel(dir, v.Pos.Filename), v.Pos.Line)
		if v.Type == "" {
			out = append(out, Finding{CheckVariableType, pos, fmt.Sprintf("variable %q has no type", v.Name)})
		}
		if strings.TrimSpace(v.Description) == "" {
			out = append(out, Finding{CheckVariableDesc, pos, fmt.Sprintf("variable %q has no description", v.Name)})
		}
		if !snakeCase.MatchString(v.Name) {
			out = append(out, Finding{CheckVariableName, pos, fmt.Sprintf("variable %q is not snake_case", v.Name)})
		}
	}
	for _, o := range sortedValues(mod.Outputs) {
		if strings.TrimSpace(o.Description) == "" {
			pos := fmt.Sprintf("%s:%d", rel(dir, o.Pos.Filename), o.Pos.Line)
			out = append(out, Finding{CheckOutputDesc, pos, fmt.Sprintf("output %q has no description", o.Name)})
		}
	}

	// hcl/v2: everything that needs the syntax tree.
	files, perr := parseDir(dir)
	if perr != nil {
		return append(out, Finding{Check: CheckParse, Pos: dir, Msg: perr.Error()})
	}
	out = append(out, checkVersions(dir, files)...)
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		out = append(out, Finding{CheckReadme, dir, "no README.md"})
	}

	locals := map[string]hclsyntax.Expression{}
	for _, f := range files {
		for _, b := range f.body.Blocks {
			if b.Type == "locals" {
				for name, attr := range b.Body.Attributes {
					locals[name] = attr.Expr
				}
			}
		}
	}

	keyPolicyDocs := keyPolicyDocuments(files)
	isRoot := false
	for _, f := range files {
		for _, b := range f.body.Blocks {
			isRoot = isRoot || b.Type == "provider"
		}
	}
	for _, f := range files {
		for _, b := range f.body.Blocks {
			// Policies written with jsonencode(...) or as JSON strings can
			// sit in any attribute of any block; in a KMS key's policy they
			// are a key policy.
			walkAttributes(b.Body, func(attr *hclsyntax.Attribute) {
				keyPolicy := isKeyPolicyAttr(b, attr)
				for _, st := range jsonPolicyStatements(attr.Expr, locals) {
					st.keyPolicy = keyPolicy
					if msg := wildcardGrant(st); msg != "" {
						add(CheckIAMWildcard, st.rng, "%s", msg)
					}
				}
			})

			// Modules only: an example (a root module, with a provider
			// block) tags what it creates as its users see fit.
			if !isRoot && b.Type == "resource" && len(b.Labels) == 2 && taggable[b.Labels[0]] {
				if _, ok := b.Body.Attributes["tags"]; !ok {
					add(CheckTags, b.DefRange(), "%s.%s sets no tags: the module's tags must reach every resource that takes them", b.Labels[0], b.Labels[1])
				}
			}

			switch {
			// A password variable that is not ephemeral is kept in every
			// saved plan file; ephemeral ones feed write-only arguments.
			case b.Type == "variable" && len(b.Labels) == 1 && passwordVar.MatchString(b.Labels[0]):
				eph, ok := b.Body.Attributes["ephemeral"]
				if !ok || hcl.ExprAsKeyword(eph.Expr) != "true" {
					add(CheckPasswordVar, b.DefRange(), "variable %q holds a password but is not ephemeral = true: it would be saved in plan files; feed it to a write-only argument", b.Labels[0])
				}

			case b.Type == "data" && len(b.Labels) == 2 && b.Labels[0] == "aws_iam_policy_document":
				for _, st := range policyDocumentStatements(b.Body, locals) {
					st.keyPolicy = keyPolicyDocs[b.Labels[1]]
					if msg := wildcardGrant(st); msg != "" {
						add(CheckIAMWildcard, st.rng, "data.aws_iam_policy_document.%s: %s", b.Labels[1], msg)
					}
				}

			case b.Type == "resource" && len(b.Labels) == 2 && b.Labels[0] == "aws_lambda_permission":
				principal, ok := b.Body.Attributes["principal"]
				if !ok {
					continue
				}
				p, static := staticString(principal.Expr)
				if !static {
					add(CheckSourceAccount, principal.SrcRange, "aws_lambda_permission.%s: principal is not a literal, so source_account cannot be checked", b.Labels[1])
					continue
				}
				if strings.HasPrefix(p, "secretsmanager.") {
					if _, ok := b.Body.Attributes["source_account"]; !ok {
						add(CheckSourceAccount, b.DefRange(), "aws_lambda_permission.%s lets %s invoke without source_account (confused deputy)", b.Labels[1], p)
					}
				}

			case b.Type == "resource" && len(b.Labels) == 2 && b.Labels[0] == "aws_lambda_function":
				out = append(out, checkLambdaEnv(dir, b, locals)...)

			case isFunctionModuleCall(b):
				out = append(out, checkFunctionModuleCall(dir, b, locals)...)

			case b.Type == "resource" && len(b.Labels) == 2 && b.Labels[0] == "aws_secretsmanager_secret_version":
				// The value goes through the write-only argument: a
				// secret_string (or secret_binary) lands in the plan and
				// the state, and a later apply would write it back.
				for _, a := range []string{"secret_string", "secret_binary"} {
					if attr, ok := b.Body.Attributes[a]; ok {
						add(CheckSecretVersionWO, attr.SrcRange, "aws_secretsmanager_secret_version.%s sets %s, which puts the secret in the state: use secret_string_wo", b.Labels[1], a)
					}
				}
				if _, ok := b.Body.Attributes["secret_string_wo"]; !ok {
					add(CheckSecretVersionWO, b.DefRange(), "aws_secretsmanager_secret_version.%s has no secret_string_wo: the initial value must be write-only", b.Labels[1])
				}
				if !ignoresChanges(b.Body, "version_stages") {
					add(CheckSecretVersionLb, b.DefRange(), "aws_secretsmanager_secret_version.%s must have lifecycle { ignore_changes = [version_stages] }: otherwise the next apply moves AWSCURRENT back to the initial value and undoes every rotation", b.Labels[1])
				}
			}
		}
	}
	sortFindings(out)
	return out
}

// FmtFindings runs `terraform fmt -check -recursive` over dir and reports
// every file it would rewrite. Without terraform on PATH (a fresh machine
// with only Go) it applies HCL's own formatter, which terraform fmt is built
// on, so the check still runs instead of being skipped.
func FmtFindings(dir string) ([]Finding, error) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		return hclFmtFindings(dir)
	}
	cmd := exec.Command(bin, "fmt", "-check", "-recursive", "-list=true", "-no-color", dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var out []Finding
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			// terraform prints paths relative to the working directory.
			absDir, _ := filepath.Abs(dir)
			absFile, _ := filepath.Abs(line)
			out = append(out, Finding{CheckFmt, rel(absDir, absFile), "not formatted (run terraform fmt -recursive terraform)"})
		}
	}
	var exit *exec.ExitError
	if runErr != nil && !(errors.As(runErr, &exit) && exit.ExitCode() == 3 && len(out) > 0) {
		return out, fmt.Errorf("terraform fmt: %v: %s", runErr, stderr.String())
	}
	return out, nil
}

// hclFmtFindings reports .tf files that hclwrite.Format would change.
func hclFmtFindings(dir string) ([]Finding, error) {
	var out []Finding
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".tf") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(hclwrite.Format(src), src) {
			out = append(out, Finding{CheckFmt, rel(dir, path), "not formatted (run terraform fmt -recursive terraform)"})
		}
		return nil
	})
	return out, err
}

// ---------------------------------------------------------------------------
// versions.tf
// ---------------------------------------------------------------------------

func checkVersions(dir string, files []parsedFile) []Finding {
	var vf *parsedFile
	for i := range files {
		if filepath.Base(files[i].path) == "versions.tf" {
			vf = &files[i]
		}
	}
	if vf == nil {
		return []Finding{{CheckVersions, dir, "no versions.tf"}}
	}
	var out []Finding
	var tfBlock *hclsyntax.Block
	for _, b := range vf.body.Blocks {
		if b.Type == "terraform" {
			tfBlock = b
		}
	}
	if tfBlock == nil {
		return []Finding{{CheckVersions, rel(dir, vf.path), "versions.tf has no terraform block"}}
	}
	if _, ok := tfBlock.Body.Attributes["required_version"]; !ok {
		out = append(out, Finding{CheckVersions, posOf(dir, tfBlock.DefRange()), "terraform block has no required_version"})
	}
	var rp *hclsyntax.Block
	for _, b := range tfBlock.Body.Blocks {
		if b.Type == "required_providers" {
			rp = b
		}
	}
	if rp == nil {
		return append(out, Finding{CheckVersions, posOf(dir, tfBlock.DefRange()), "terraform block has no required_providers"})
	}
	for _, name := range sortedKeys(rp.Body.Attributes) {
		attr := rp.Body.Attributes[name]
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() || !v.Type().IsObjectType() {
			out = append(out, Finding{CheckVersions, posOf(dir, attr.SrcRange), fmt.Sprintf("provider %q: requirement must be a literal object with source and version", name)})
			continue
		}
		src, ver := objString(v, "source"), objString(v, "version")
		if src == "" {
			out = append(out, Finding{CheckVersions, posOf(dir, attr.SrcRange), fmt.Sprintf("provider %q has no source", name)})
		}
		if !hasUpperBound(ver) {
			out = append(out, Finding{CheckVersions, posOf(dir, attr.SrcRange), fmt.Sprintf("provider %q version %q is not pinned (needs ~>, < or an exact version)", name, ver)})
		}
	}
	return out
}

// hasUpperBound reports whether a version constraint stops at some version.
func hasUpperBound(c string) bool {
	for _, part := range strings.Split(c, ",") {
		p := strings.TrimSpace(part)
		switch {
		case p == "":
		case strings.HasPrefix(p, "~>"), strings.HasPrefix(p, "<"):
			return true
		case strings.HasPrefix(p, "="), p[0] >= '0' && p[0] <= '9':
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// IAM
// ---------------------------------------------------------------------------

type statement struct {
	actions, notActions, resources []string
	// conditionKeys are the condition variables (context keys) of the
	// statement, as far as they can be read statically.
	conditionKeys []string
	// keyPolicy marks a statement of a KMS key policy, where Resource "*"
	// means "this key".
	keyPolicy bool
	// deny marks a Deny statement: it takes rights away, so a wildcard in
	// it widens nothing.
	deny bool
	rng  hcl.Range
}

// keyPolicyDocuments names the aws_iam_policy_document data sources used
// only as KMS key policies (the policy of an aws_kms_key or an
// aws_kms_key_policy). A document also used anywhere else is not one: its
// statements then read as an identity policy too.
func keyPolicyDocuments(files []parsedFile) map[string]bool {
	asKey, elsewhere := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		for _, b := range f.body.Blocks {
			walkAttributes(b.Body, func(attr *hclsyntax.Attribute) {
				for _, tr := range attr.Expr.Variables() {
					if len(tr) < 3 || tr.RootName() != "data" {
						continue
					}
					typ, ok1 := tr[1].(hcl.TraverseAttr)
					name, ok2 := tr[2].(hcl.TraverseAttr)
					if !ok1 || !ok2 || typ.Name != "aws_iam_policy_document" {
						continue
					}
					if isKeyPolicyAttr(b, attr) {
						asKey[name.Name] = true
					} else {
						elsewhere[name.Name] = true
					}
				}
			})
		}
	}
	for n := range elsewhere {
		delete(asKey, n)
	}
	return asKey
}

// isKeyPolicyAttr reports whether attr is the policy of a KMS key resource.
func isKeyPolicyAttr(b *hclsyntax.Block, attr *hclsyntax.Attribute) bool {
	return b.Type == "resource" && len(b.Labels) == 2 &&
		(b.Labels[0] == "aws_kms_key" || b.Labels[0] == "aws_kms_key_policy") &&
		attr.Name == "policy" && b.Body.Attributes["policy"] == attr
}

// policyDocumentStatements reads the statements of an aws_iam_policy_document
// body, dynamic "statement" blocks included. Values are rendered through
// locals (see renderings); what cannot be read becomes "${…}".
func policyDocumentStatements(body *hclsyntax.Body, locals map[string]hclsyntax.Expression) []statement {
	var out []statement
	for _, b := range body.Blocks {
		var sb *hclsyntax.Body
		switch {
		case b.Type == "statement":
			sb = b.Body
		case b.Type == "dynamic" && len(b.Labels) == 1 && b.Labels[0] == "statement":
			for _, c := range b.Body.Blocks {
				if c.Type == "content" {
					sb = c.Body
				}
			}
		}
		if sb == nil {
			continue
		}
		st := statement{
			actions:    attrStrings(sb.Attributes["actions"], locals),
			notActions: attrStrings(sb.Attributes["not_actions"], locals),
			resources:  attrStrings(sb.Attributes["resources"], locals),
			deny:       slices.Equal(attrStrings(sb.Attributes["effect"], locals), []string{"Deny"}),
			rng:        b.DefRange(),
		}
		for _, cb := range sb.Blocks {
			cond := cb.Body
			if cb.Type == "dynamic" && len(cb.Labels) == 1 && cb.Labels[0] == "condition" {
				for _, c := range cb.Body.Blocks {
					if c.Type == "content" {
						cond = c.Body
					}
				}
			} else if cb.Type != "condition" {
				continue
			}
			st.conditionKeys = append(st.conditionKeys, attrStrings(cond.Attributes["variable"], locals)...)
		}
		out = append(out, st)
	}
	return out
}

// jsonPolicyStatements finds IAM statements in jsonencode({Statement = …})
// calls and in literal JSON strings anywhere inside expr.
func jsonPolicyStatements(expr hclsyntax.Expression, locals map[string]hclsyntax.Expression) []statement {
	var out []statement
	hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
		switch e := n.(type) {
		case *hclsyntax.FunctionCallExpr:
			if e.Name != "jsonencode" || len(e.Args) != 1 {
				return nil
			}
			obj, ok := e.Args[0].(*hclsyntax.ObjectConsExpr)
			if !ok {
				return nil
			}
			for _, item := range obj.Items {
				if k, ok := staticString(item.KeyExpr); !ok || k != "Statement" {
					continue
				}
				var stmts []hclsyntax.Expression
				switch v := item.ValueExpr.(type) {
				case *hclsyntax.TupleConsExpr:
					stmts = v.Exprs
				default:
					stmts = []hclsyntax.Expression{v}
				}
				for _, s := range stmts {
					so, ok := s.(*hclsyntax.ObjectConsExpr)
					if !ok {
						continue
					}
					st := statement{rng: s.Range()}
					for _, it := range so.Items {
						k, _ := staticString(it.KeyExpr)
						switch k {
						case "Action":
							st.actions = renderings(it.ValueExpr, locals, 0)
						case "NotAction":
							st.notActions = renderings(it.ValueExpr, locals, 0)
						case "Resource":
							st.resources = renderings(it.ValueExpr, locals, 0)
						case "Condition":
							// Condition = { <operator> = { <key> = value } }
							ops, ok := it.ValueExpr.(*hclsyntax.ObjectConsExpr)
							if !ok {
								st.conditionKeys = append(st.conditionKeys, "${…}")
								continue
							}
							for _, op := range ops.Items {
								keys, ok := op.ValueExpr.(*hclsyntax.ObjectConsExpr)
								if !ok {
									continue
								}
								for _, kv := range keys.Items {
									if ck, ok := staticString(kv.KeyExpr); ok {
										st.conditionKeys = append(st.conditionKeys, ck)
									}
								}
							}
						}
					}
					out = append(out, st)
				}
			}
		case *hclsyntax.TemplateExpr:
			s, ok := staticString(e)
			if !ok || !strings.Contains(s, "Statement") {
				return nil
			}
			var doc struct {
				Statement json.RawMessage
			}
			if json.Unmarshal([]byte(s), &doc) != nil || len(doc.Statement) == 0 {
				return nil
			}
			var list []map[string]json.RawMessage
			if json.Unmarshal(doc.Statement, &list) != nil {
				var one map[string]json.RawMessage
				if json.Unmarshal(doc.Statement, &one) != nil {
					return nil
				}
				list = append(list, one)
			}
			for _, m := range list {
				st := statement{
					actions:    jsonStrings(m["Action"]),
					notActions: jsonStrings(m["NotAction"]),
					resources:  jsonStrings(m["Resource"]),
					rng:        e.Range(),
				}
				var cond map[string]map[string]json.RawMessage
				if json.Unmarshal(m["Condition"], &cond) == nil {
					for _, keys := range cond {
						st.conditionKeys = append(st.conditionKeys, sortedKeys(keys)...)
					}
				}
				out = append(out, st)
			}
		}
		return nil
	})
	return out
}

// Condition keys that scope a wildcard resource. A Secrets Manager grant on
// a resource pattern must be limited to the secrets carrying a tag; a KMS
// grant on a key pattern must be limited to use through a service.
const (
	scopeConditionSecretsManager = "secretsmanager:resourcetag/"
	scopeConditionKMS            = "kms:viaservice"
)

// wildcardGrant explains why a statement grants Secrets Manager or KMS
// actions on too wide a set of resources, or returns "". The rules:
//
//   - Resource "*" (every resource of every service): no Secrets Manager
//     or KMS action, `*` or not_actions, whatever the conditions, except
//     the actions in allowedOnStar and, in a KMS key policy (where "*" is
//     the key itself), KMS actions.
//   - A resource pattern holding "*" (arn:…:secret:*, arn:…:key/*): Secrets
//     Manager actions only with a secretsmanager:ResourceTag/<key>
//     condition, KMS actions only with kms:ViaService; `*` and not_actions
//     never.
func wildcardGrant(st statement) string {
	if st.deny {
		return ""
	}
	star, pattern := false, ""
	for _, r := range st.resources {
		switch {
		case r == "*":
			star = true
		case strings.Contains(r, "*") && pattern == "":
			pattern = r
		}
	}
	if !star && pattern == "" {
		return ""
	}
	where := `Resource "*"`
	if !star {
		where = fmt.Sprintf("resource %q", pattern)
	}
	if len(st.notActions) > 0 {
		return fmt.Sprintf("not_actions %v on %s grants every other action, Secrets Manager and KMS included", st.notActions, where)
	}
	hasCond := func(prefix string) bool {
		return slices.ContainsFunc(st.conditionKeys, func(k string) bool { return strings.HasPrefix(strings.ToLower(k), prefix) })
	}
	var bad []string
	for _, a := range st.actions {
		la := strings.ToLower(a)
		sm, kms := strings.HasPrefix(la, "secretsmanager:"), strings.HasPrefix(la, "kms:")
		switch {
		case allowedOnStar[la]:
		case kms && st.keyPolicy:
			// A key policy's "*" is the key it is attached to.
		case la == "*":
			bad = append(bad, a)
		case star && (sm || kms):
			bad = append(bad, a)
		case sm && !hasCond(scopeConditionSecretsManager):
			bad = append(bad, a)
		case kms && !hasCond(scopeConditionKMS):
			bad = append(bad, a)
		}
	}
	if len(bad) == 0 {
		return ""
	}
	if star {
		return fmt.Sprintf("grants %s on %s", strings.Join(bad, ", "), where)
	}
	var needs []string
	if slices.ContainsFunc(bad, func(a string) bool { return !strings.HasPrefix(strings.ToLower(a), "kms:") }) {
		needs = append(needs, "a secretsmanager:ResourceTag/<key> condition")
	}
	if slices.ContainsFunc(bad, func(a string) bool { return strings.HasPrefix(strings.ToLower(a), "kms:") }) {
		needs = append(needs, "a kms:ViaService condition")
	}
	return fmt.Sprintf("grants %s on %s without %s", strings.Join(bad, ", "), where, strings.Join(needs, " and "))
}

// ---------------------------------------------------------------------------
// Lambda environment
// ---------------------------------------------------------------------------

// functionModule is the directory name of the internal module that builds
// one rotor function (log group, role, role policy, aws_lambda_function).
// Its aws_lambda_function takes its environment from var.environment, so
// the names are checked where the module is called: every module block
// whose local source ends in this name must say which rotor function it
// builds (function = "<name>") and its environment argument is held to
// that function's config.FunctionEnv.
const functionModule = "function"

// isFunctionModuleDir reports whether dir is the function module itself.
func isFunctionModuleDir(dir string) bool {
	abs, err := filepath.Abs(dir)
	return err == nil && filepath.Base(abs) == functionModule
}

// isFunctionModuleCall reports whether b is a module block calling the
// function module (a local source whose last element is functionModule).
func isFunctionModuleCall(b *hclsyntax.Block) bool {
	if b.Type != "module" || len(b.Labels) != 1 {
		return false
	}
	src, ok := b.Body.Attributes["source"]
	if !ok {
		return false
	}
	s, ok := staticString(src.Expr)
	if !ok || !(strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../")) {
		return false
	}
	return path.Base(strings.TrimRight(s, "/")) == functionModule
}

// checkLambdaEnv compares the environment variables an aws_lambda_function
// sets with config.FunctionEnv. The resource's name is the function's name
// under functions/ (rotator, rotatenow, notifier, auditor). In the function
// module the resource must pass var.environment through unchanged instead:
// its names are checked at each call (checkFunctionModuleCall).
func checkLambdaEnv(dir string, b *hclsyntax.Block, locals map[string]hclsyntax.Expression) []Finding {
	var vars hclsyntax.Expression
	var rng = b.DefRange()
	for _, eb := range b.Body.Blocks {
		if eb.Type == "environment" {
			if a, ok := eb.Body.Attributes["variables"]; ok {
				vars, rng = a.Expr, a.SrcRange
			}
		}
	}
	if isFunctionModuleDir(dir) {
		if !isVarTraversal(vars, "environment") {
			return []Finding{{CheckLambdaEnv, posOf(dir, rng),
				fmt.Sprintf("aws_lambda_function.%s in the %s module must set environment { variables = var.environment } and nothing else: the names are checked where the module is called", b.Labels[1], functionModule)}}
		}
		return nil
	}
	fn := b.Labels[1]
	if _, known := config.FunctionEnv[fn]; !known {
		return []Finding{{CheckLambdaEnv, posOf(dir, b.DefRange()),
			fmt.Sprintf("aws_lambda_function.%s is not named after a rotor function (one of %v): its environment cannot be checked", fn, sortedKeys(config.FunctionEnv))}}
	}
	return checkEnvNames(dir, "aws_lambda_function."+fn, fn, vars, rng, locals)
}

// checkFunctionModuleCall checks a call of the function module: its
// function argument names a rotor function, and the names of its
// environment argument are those that function reads.
func checkFunctionModuleCall(dir string, b *hclsyntax.Block, locals map[string]hclsyntax.Expression) []Finding {
	label := "module." + b.Labels[0]
	fa, ok := b.Body.Attributes["function"]
	if !ok {
		return []Finding{{CheckLambdaEnv, posOf(dir, b.DefRange()),
			fmt.Sprintf("%s calls the %s module without a function argument naming the rotor function: its environment cannot be checked", label, functionModule)}}
	}
	fn, static := staticString(fa.Expr)
	if !static {
		return []Finding{{CheckLambdaEnv, posOf(dir, fa.SrcRange),
			fmt.Sprintf("%s: function is not a literal, so its environment cannot be checked", label)}}
	}
	if _, known := config.FunctionEnv[fn]; !known {
		return []Finding{{CheckLambdaEnv, posOf(dir, fa.SrcRange),
			fmt.Sprintf("%s: function %q is not a rotor function (one of %v): its environment cannot be checked", label, fn, sortedKeys(config.FunctionEnv))}}
	}
	var vars hclsyntax.Expression
	rng := b.DefRange()
	if a, ok := b.Body.Attributes["environment"]; ok {
		vars, rng = a.Expr, a.SrcRange
	}
	return checkEnvNames(dir, label, fn, vars, rng, locals)
}

// checkEnvNames holds the environment vars (nil: none) that label sets for
// the rotor function fn to config.FunctionEnv[fn] and requiredEnv[fn].
func checkEnvNames(dir, label, fn string, vars hclsyntax.Expression, rng hcl.Range, locals map[string]hclsyntax.Expression) []Finding {
	allowed := config.FunctionEnv[fn]
	var names []string
	if vars != nil {
		var err error
		names, err = envNames(vars, locals, 0)
		if err != nil {
			return []Finding{{CheckLambdaEnv, posOf(dir, rng), fmt.Sprintf("%s: %v", label, err)}}
		}
	}
	var out []Finding
	for _, n := range names {
		if !slices.Contains(allowed, n) {
			out = append(out, Finding{CheckLambdaEnv, posOf(dir, rng),
				fmt.Sprintf("%s sets %s, which the %s function does not read (config.FunctionEnv)", label, n, fn)})
		}
	}
	for _, n := range requiredEnv[fn] {
		if !slices.Contains(names, n) {
			out = append(out, Finding{CheckLambdaEnv, posOf(dir, rng),
				fmt.Sprintf("%s does not set %s", label, n)})
		}
	}
	return out
}

// isVarTraversal reports whether expr is exactly var.<name>.
func isVarTraversal(expr hclsyntax.Expression, name string) bool {
	t, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(t.Traversal) != 2 || t.Traversal.RootName() != "var" {
		return false
	}
	a, ok := t.Traversal[1].(hcl.TraverseAttr)
	return ok && a.Name == name
}

// envNames returns the keys of an environment map expression: an object
// literal, possibly filtered by a for expression, merged, chosen by a
// conditional or held in a local.
func envNames(expr hclsyntax.Expression, locals map[string]hclsyntax.Expression, depth int) ([]string, error) {
	if depth > 8 {
		return nil, errors.New("environment variables nest too deeply to read statically")
	}
	switch e := expr.(type) {
	case *hclsyntax.ObjectConsExpr:
		var names []string
		for _, item := range e.Items {
			k, ok := staticString(item.KeyExpr)
			if !ok {
				return nil, fmt.Errorf("environment variable name at %s is not a literal", item.KeyExpr.Range())
			}
			names = append(names, k)
		}
		return names, nil
	case *hclsyntax.ForExpr:
		return envNames(e.CollExpr, locals, depth+1)
	case *hclsyntax.ParenthesesExpr:
		return envNames(e.Expression, locals, depth+1)
	case *hclsyntax.ConditionalExpr:
		a, err := envNames(e.TrueResult, locals, depth+1)
		if err != nil {
			return nil, err
		}
		b, err := envNames(e.FalseResult, locals, depth+1)
		if err != nil {
			return nil, err
		}
		return append(a, b...), nil
	case *hclsyntax.FunctionCallExpr:
		if e.Name != "merge" {
			break
		}
		var names []string
		for _, arg := range e.Args {
			n, err := envNames(arg, locals, depth+1)
			if err != nil {
				return nil, err
			}
			names = append(names, n...)
		}
		return names, nil
	case *hclsyntax.ScopeTraversalExpr:
		if len(e.Traversal) == 2 && e.Traversal.RootName() == "local" {
			if attr, ok := e.Traversal[1].(hcl.TraverseAttr); ok {
				if l, ok := locals[attr.Name]; ok {
					return envNames(l, locals, depth+1)
				}
			}
		}
	}
	return nil, fmt.Errorf("environment variables at %s are not an object literal (or merge/for/local of one), so their names cannot be checked", expr.Range())
}

// ---------------------------------------------------------------------------
// Secret versions
// ---------------------------------------------------------------------------

// ignoresChanges reports whether a resource's lifecycle ignores changes to
// attr (or to everything).
func ignoresChanges(body *hclsyntax.Body, attr string) bool {
	for _, lb := range body.Blocks {
		if lb.Type != "lifecycle" {
			continue
		}
		ic, ok := lb.Body.Attributes["ignore_changes"]
		if !ok {
			continue
		}
		if kw := hcl.ExprAsKeyword(ic.Expr); kw == "all" {
			return true
		}
		list, diags := hcl.ExprList(ic.Expr)
		if diags.HasErrors() {
			continue
		}
		for _, item := range list {
			if hcl.ExprAsKeyword(item) == attr {
				return true
			}
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

type parsedFile struct {
	path string
	body *hclsyntax.Body
}

func parseDir(dir string) ([]parsedFile, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	p := hclparse.NewParser()
	var out []parsedFile
	for _, path := range paths {
		f, diags := p.ParseHCLFile(path)
		if diags.HasErrors() {
			return nil, diags
		}
		out = append(out, parsedFile{path: path, body: f.Body.(*hclsyntax.Body)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no .tf files", dir)
	}
	return out, nil
}

// walkAttributes calls fn for every attribute of body and its nested blocks.
func walkAttributes(body *hclsyntax.Body, fn func(*hclsyntax.Attribute)) {
	for _, name := range sortedKeys(body.Attributes) {
		fn(body.Attributes[name])
	}
	for _, b := range body.Blocks {
		walkAttributes(b.Body, fn)
	}
}

// staticString evaluates expr without variables; ok is false when it needs
// any (a reference, a function call) or is not a string.
func staticString(expr hcl.Expression) (string, bool) {
	if k, isKey := expr.(*hclsyntax.ObjectConsKeyExpr); isKey {
		if kw := hcl.ExprAsKeyword(k.Wrapped); kw != "" && !k.ForceNonLiteral {
			return kw, true
		}
		expr = k.Wrapped
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// attrStrings renders an attribute's value (see renderings); nil for a
// missing attribute.
func attrStrings(attr *hclsyntax.Attribute, locals map[string]hclsyntax.Expression) []string {
	if attr == nil {
		return nil
	}
	return renderings(attr.Expr, locals, 0)
}

// renderings returns the strings expr may evaluate to, as far as they can
// be read without variables: a literal is itself; a list is its elements; a
// conditional is both branches; null is nothing; a local is its value; a
// template is its parts joined, each part that cannot be read shown as
// "${…}". So "arn:${local.partition}:secretsmanager:…:secret:*" renders as
// "arn:${…}:secretsmanager:…:secret:*" and keeps its "*", while a variable
// renders as "${…}" and matches no rule.
func renderings(expr hclsyntax.Expression, locals map[string]hclsyntax.Expression, depth int) []string {
	const unknown = "${…}"
	if depth > 8 {
		return []string{unknown}
	}
	if s, ok := staticString(expr); ok {
		return []string{s}
	}
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		if e.Val.IsNull() {
			return nil
		}
	case *hclsyntax.TupleConsExpr:
		var out []string
		for _, el := range e.Exprs {
			out = append(out, renderings(el, locals, depth+1)...)
		}
		return out
	case *hclsyntax.ParenthesesExpr:
		return renderings(e.Expression, locals, depth+1)
	case *hclsyntax.TemplateWrapExpr:
		return renderings(e.Wrapped, locals, depth+1)
	case *hclsyntax.ConditionalExpr:
		return append(renderings(e.TrueResult, locals, depth+1), renderings(e.FalseResult, locals, depth+1)...)
	case *hclsyntax.ScopeTraversalExpr:
		if len(e.Traversal) == 2 && e.Traversal.RootName() == "local" {
			if attr, ok := e.Traversal[1].(hcl.TraverseAttr); ok {
				if l, ok := locals[attr.Name]; ok {
					return renderings(l, locals, depth+1)
				}
			}
		}
	case *hclsyntax.TemplateExpr:
		var b strings.Builder
		for _, part := range e.Parts {
			if r := renderings(part, locals, depth+1); len(r) == 1 {
				b.WriteString(r[0])
			} else {
				b.WriteString(unknown)
			}
		}
		return []string{b.String()}
	}
	return []string{unknown}
}

func jsonStrings(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	return nil
}

func objString(v cty.Value, key string) string {
	if !v.Type().HasAttribute(key) {
		return ""
	}
	a := v.GetAttr(key)
	if a.IsNull() || !a.IsKnown() || a.Type() != cty.String {
		return ""
	}
	return a.AsString()
}

func posOf(dir string, r hcl.Range) string {
	return fmt.Sprintf("%s:%d", rel(dir, r.Filename), r.Start.Line)
}

func rel(dir, path string) string {
	if r, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedValues[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Check != fs[j].Check {
			return fs[i].Check < fs[j].Check
		}
		return fs[i].Pos < fs[j].Pos
	})
}
