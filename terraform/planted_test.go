package terraform_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each case copies a clean module, plants one mistake and asserts that the
// checker reports exactly that mistake and nothing else.

const (
	rotatorDir = "modules/rotator"
	secretDir  = "modules/rotated-secret"
	alertsDir  = "modules/alerts"
	funcDir    = "modules/function"
)

// The tag condition of the rotator's RotateTaggedSecrets statement, with
// the action list before it so the text is unique.
const rotateTaggedCondition = `"secretsmanager:UpdateSecretVersionStage",
      ]
      resources = [local.account_secrets_arn]

      condition {
        test     = "StringEquals"
        variable = local.scope_tag_condition_key
        values   = [local.scope_tag_value]
      }
`

type edit func(t *testing.T, dir string)

func replace(file, old, new string) edit {
	return func(t *testing.T, dir string) { t.Helper(); plant(t, dir, file, old, new) }
}

func appendTo(file, text string) edit {
	return func(t *testing.T, dir string) {
		t.Helper()
		f, err := os.OpenFile(filepath.Join(dir, file), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
	}
}

func remove(file string) edit {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.Remove(filepath.Join(dir, file)); err != nil {
			t.Fatal(err)
		}
	}
}

func edits(es ...edit) edit {
	return func(t *testing.T, dir string) {
		t.Helper()
		for _, e := range es {
			e(t, dir)
		}
	}
}

func TestCheckerCatchesPlantedMistakes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		dir   string
		plant edit
		check string
		want  string // substring of the finding's message
	}{
		{
			name:  "untyped variable",
			dir:   secretDir,
			plant: replace("variables.tf", "  type        = map(string)\n", ""),
			check: CheckVariableType, want: `"tags"`,
		},
		{
			name:  "undescribed variable",
			dir:   secretDir,
			plant: replace("variables.tf", "  description = \"Description of the secret.\"\n", ""),
			check: CheckVariableDesc, want: `"description"`,
		},
		{
			name:  "variable not snake_case",
			dir:   secretDir,
			plant: replace("variables.tf", `variable "dbname" {`, `variable "dbName" {`),
			check: CheckVariableName, want: `"dbName"`,
		},
		{
			name:  "undescribed output",
			dir:   rotatorDir,
			plant: replace("outputs.tf", "  description = \"Name of the rotator's IAM role.\"\n", ""),
			check: CheckOutputDesc, want: `"rotator_role_name"`,
		},
		{
			name:  "secret read on every secret (dynamic statement)",
			dir:   rotatorDir,
			plant: replace("main.tf", "resources = var.master_secret_arns", `resources = ["*"]`),
			check: CheckIAMWildcard, want: "secretsmanager:GetSecretValue",
		},
		{
			name:  "KMS on every key",
			dir:   rotatorDir,
			plant: replace("main.tf", "resources = var.kms_key_arns", `resources = ["arn:aws:kms:eu-west-1:123456789012:key/k", "*"]`),
			check: CheckIAMWildcard, want: "kms:Decrypt",
		},
		{
			name:  "the pin's Deny turned into an Allow",
			dir:   "modules/rotated-secret",
			plant: replace("main.tf", `effect    = "Deny"`, `effect    = "Allow"`),
			check: CheckIAMWildcard, want: "data.aws_iam_policy_document.pin: grants secretsmanager:TagResource, secretsmanager:UntagResource on Resource",
		},
		{
			name: "ListSecrets statement widened",
			dir:  rotatorDir,
			plant: replace("main.tf", `sid       = "ResolveFilters"
    actions   = ["secretsmanager:ListSecrets"]`,
				`sid       = "ResolveFilters"
    actions   = ["secretsmanager:ListSecrets", "secretsmanager:RotateSecret"]`),
			check: CheckIAMWildcard, want: "grants secretsmanager:RotateSecret on",
		},
		{
			name: "tag-scoped statement loses its tag condition",
			dir:  rotatorDir,
			plant: replace("main.tf", rotateTaggedCondition, `"secretsmanager:UpdateSecretVersionStage",
      ]
      resources = [local.account_secrets_arn]
`),
			check: CheckIAMWildcard, want: `secretsmanager:GetSecretValue, secretsmanager:PutSecretValue, secretsmanager:UpdateSecretVersionStage on resource "arn:${…}:secretsmanager:${…}:${…}:secret:*" without a secretsmanager:ResourceTag/<key> condition`,
		},
		{
			name: "tag condition swapped for another condition",
			dir:  rotatorDir,
			plant: replace("main.tf", rotateTaggedCondition, `"secretsmanager:UpdateSecretVersionStage",
      ]
      resources = [local.account_secrets_arn]

      condition {
        test     = "StringEquals"
        variable = "aws:ResourceAccount"
        values   = [local.account_id]
      }
`),
			check: CheckIAMWildcard, want: "secretsmanager:DescribeSecret",
		},
		{
			name: "literal scoped wildcard ARN without condition",
			dir:  rotatorDir,
			plant: replace("main.tf", `      sid       = "ReadMasterSecrets"
      actions   = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
      resources = var.master_secret_arns`, `      sid       = "ReadMasterSecrets"
      actions   = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
      resources = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/*"]`),
			check: CheckIAMWildcard, want: `on resource "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/*"`,
		},
		{
			name: "KMS key pattern without kms:ViaService",
			dir:  rotatorDir,
			plant: edits(
				replace("main.tf", "resources = var.kms_key_arns", `resources = ["arn:aws:kms:eu-west-1:123456789012:key/*"]`),
				replace("main.tf", `      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
`, ""),
			),
			check: CheckIAMWildcard, want: "kms:Decrypt, kms:GenerateDataKey on resource \"arn:aws:kms:eu-west-1:123456789012:key/*\" without a kms:ViaService condition",
		},
		{
			name: "jsonencode policy on every secret without a condition",
			dir:  rotatorDir,
			plant: appendTo("main.tf", `
resource "aws_iam_role_policy" "planted" {
  role = module.rotator.role_name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["secretsmanager:GetSecretValue"], Resource = local.account_secrets_arn }]
  })
}
`),
			check: CheckIAMWildcard, want: "secretsmanager:GetSecretValue on resource",
		},
		{
			name: "alerts: describe on every secret without the tag condition",
			dir:  alertsDir,
			plant: replace("main.tf", `      sid       = "DescribeTaggedSecrets"
      actions   = ["secretsmanager:DescribeSecret"]
      resources = [local.account_secrets_arn]

      condition {
        test     = "StringEquals"
        variable = local.scope_tag_condition_key
        values   = [local.scope_tag_value]
      }
`, `      sid       = "DescribeTaggedSecrets"
      actions   = ["secretsmanager:DescribeSecret"]
      resources = [local.account_secrets_arn]
`),
			check: CheckIAMWildcard, want: "data.aws_iam_policy_document.notifier: grants secretsmanager:DescribeSecret on resource",
		},
		{
			name: "alerts: a role's KMS grant widened to every key",
			dir:  alertsDir,
			plant: replace("main.tf", `      sid       = "EncryptAlertsThroughSNS"
      actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
      resources = [local.topic_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sns.${local.region}.amazonaws.com"]
      }
    }
  }

  lifecycle {`, `      sid       = "EncryptAlertsThroughSNS"
      actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
      resources = ["*"]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sns.${local.region}.amazonaws.com"]
      }
    }
  }

  lifecycle {`),
			check: CheckIAMWildcard, want: `data.aws_iam_policy_document.notifier: grants kms:GenerateDataKey*, kms:Decrypt on Resource "*"`,
		},
		{
			name: "alerts: key policy statement copied into a role policy",
			dir:  alertsDir,
			plant: appendTo("main.tf", `
resource "aws_iam_role_policy" "planted" {
  role = module.notifier.role_name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey*"], Resource = "*" }]
  })
}
`),
			check: CheckIAMWildcard, want: `grants kms:Decrypt, kms:GenerateDataKey* on Resource "*"`,
		},
		{
			name: "jsonencode policy with secretsmanager:*",
			dir:  rotatorDir,
			plant: appendTo("main.tf", `
resource "aws_iam_role_policy" "planted" {
  role = module.rotator.role_name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "secretsmanager:*", Resource = "*" }]
  })
}
`),
			check: CheckIAMWildcard, want: "secretsmanager:*",
		},
		{
			name: "literal JSON policy with kms:*",
			dir:  rotatorDir,
			plant: appendTo("main.tf", `
resource "aws_iam_role_policy" "planted" {
  role   = module.rotator.role_name
  policy = <<-EOT
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:*"], "Resource": "*"}]}
  EOT
}
`),
			check: CheckIAMWildcard, want: "kms:*",
		},
		{
			name:  "permission without source_account",
			dir:   rotatorDir,
			plant: replace("main.tf", "  source_account = local.account_id\n", ""),
			check: CheckSourceAccount, want: "secretsmanager.amazonaws.com",
		},
		// The environment is set where the function module is called; the
		// checker follows each call (function = "<name>", environment).
		{
			name:  "renamed environment variable",
			dir:   rotatorDir,
			plant: replace("main.tf", "METRICS_NAMESPACE          = var.metrics_namespace", "METRICS_NAMESPACES         = var.metrics_namespace"),
			check: CheckLambdaEnv, want: "module.rotator sets METRICS_NAMESPACES",
		},
		{
			name: "another function's environment variable",
			dir:  rotatorDir,
			plant: replace("main.tf", "ROTATE_NOW_CONCURRENCY       = tostring(var.rotatenow_concurrency)",
				"ROTATE_NOW_CONCURRENCY       = tostring(var.rotatenow_concurrency)\n    SNS_TOPIC_ARN = \"arn\""),
			check: CheckLambdaEnv, want: "module.rotatenow sets SNS_TOPIC_ARN",
		},
		{
			name: "alerts: another function's environment variable",
			dir:  alertsDir,
			plant: replace("main.tf", "    SNS_TOPIC_ARN            = aws_sns_topic.alerts[0].arn\n    SECRETS_MANAGER_ENDPOINT = var.secrets_manager_endpoint\n  } : k => v if v != null }\n\n  policy                        = data.aws_iam_policy_document.notifier[0].json",
				"    SNS_TOPIC_ARN            = aws_sns_topic.alerts[0].arn\n    METRICS_NAMESPACE        = var.metrics_namespace\n    SECRETS_MANAGER_ENDPOINT = var.secrets_manager_endpoint\n  } : k => v if v != null }\n\n  policy                        = data.aws_iam_policy_document.notifier[0].json"),
			check: CheckLambdaEnv, want: "module.notifier sets METRICS_NAMESPACE",
		},
		{
			name:  "required environment variable missing",
			dir:   rotatorDir,
			plant: replace("main.tf", "    DB_TLS                     = var.db_tls\n", ""),
			check: CheckLambdaEnv, want: "module.rotator does not set DB_TLS",
		},
		{
			name:  "strategy left implicit",
			dir:   rotatorDir,
			plant: replace("main.tf", "    ROTATION_STRATEGY          = var.rotation_strategy\n", ""),
			check: CheckLambdaEnv, want: "module.rotator does not set ROTATION_STRATEGY",
		},
		{
			name: "environment not readable statically",
			dir:  rotatorDir,
			plant: edits(
				replace("main.tf", "  environment = {\n    ROTATE_NOW_CONCURRENCY", "  environment = merge(var.tags, {\n    ROTATE_NOW_CONCURRENCY"),
				replace("main.tf", "    ROTATE_NOW_WRITES_PER_SECOND = tostring(var.rotatenow_writes_per_second)\n  }\n", "    ROTATE_NOW_WRITES_PER_SECOND = tostring(var.rotatenow_writes_per_second)\n  })\n"),
			),
			check: CheckLambdaEnv, want: "cannot be checked",
		},
		{
			name:  "function module called for no rotor function",
			dir:   rotatorDir,
			plant: replace("main.tf", `function         = "rotatenow"`, `function         = "rotate_now"`),
			check: CheckLambdaEnv, want: `module.rotatenow: function "rotate_now" is not a rotor function`,
		},
		{
			name:  "function module called without function",
			dir:   alertsDir,
			plant: replace("main.tf", "  function         = \"auditor\"\n", ""),
			check: CheckLambdaEnv, want: "module.auditor calls the function module without a function argument",
		},
		{
			name:  "function module adds to the environment",
			dir:   funcDir,
			plant: replace("main.tf", "variables = var.environment", `variables = merge(var.environment, { DB_TLS = "disable" })`),
			check: CheckLambdaEnv, want: "aws_lambda_function.this in the function module must set environment { variables = var.environment }",
		},
		{
			name:  "function not named after a rotor function",
			dir:   rotatorDir,
			plant: appendTo("main.tf", "\nresource \"aws_lambda_function\" \"rotate_now\" {\n  function_name = \"x\"\n  tags          = var.tags\n}\n"),
			check: CheckLambdaEnv, want: "aws_lambda_function.rotate_now is not named after a rotor function",
		},
		{
			name:  "function module: undescribed output",
			dir:   funcDir,
			plant: replace("outputs.tf", "  description = \"Name of the function's IAM role.\"\n", ""),
			check: CheckOutputDesc, want: `"role_name"`,
		},
		{
			name:  "function module: untyped variable",
			dir:   funcDir,
			plant: replace("variables.tf", "  description = \"Memory of the function, in MB.\"\n  type        = number\n", "  description = \"Memory of the function, in MB.\"\n"),
			check: CheckVariableType, want: `"memory_size"`,
		},
		{
			name:  "no versions.tf",
			dir:   secretDir,
			plant: remove("versions.tf"),
			check: CheckVersions, want: "no versions.tf",
		},
		{
			name:  "provider without upper bound",
			dir:   secretDir,
			plant: replace("versions.tf", `version = ">= 5.88.0, < 7.0.0"`, `version = ">= 5.88.0"`),
			check: CheckVersions, want: "not pinned",
		},
		{
			name:  "no required_version",
			dir:   rotatorDir,
			plant: replace("versions.tf", "  required_version = \">= 1.5.0\"\n", ""),
			check: CheckVersions, want: "no required_version",
		},
		{
			name:  "secret version stages managed after rotation",
			dir:   secretDir,
			plant: replace("main.tf", "ignore_changes = [secret_string_wo_version, version_stages]", "ignore_changes = [secret_string_wo_version]"),
			check: CheckSecretVersionLb, want: "aws_secretsmanager_secret_version.initial must have lifecycle { ignore_changes = [version_stages] }",
		},
		{
			name:  "initial value in the state",
			dir:   secretDir,
			plant: replace("main.tf", "  secret_string_wo         = jsonencode(", "  secret_string            = \"x\"\n  secret_string_wo         = jsonencode("),
			check: CheckSecretVersionWO, want: "sets secret_string, which puts the secret in the state",
		},
		{
			name:  "password variable saved in plans",
			dir:   secretDir,
			plant: replace("variables.tf", "  ephemeral   = true\n", ""),
			check: CheckPasswordVar, want: `variable "password_wo" holds a password but is not ephemeral`,
		},
		{
			name:  "resource without the module's tags",
			dir:   secretDir,
			plant: replace("main.tf", "  tags                    = merge(var.tags, local.rotor_tags)\n", ""),
			check: CheckTags, want: "aws_secretsmanager_secret.this sets no tags",
		},
		{
			name:  "no README",
			dir:   secretDir,
			plant: remove("README.md"),
			check: CheckReadme, want: "no README.md",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyDir(t, tc.dir)
			if got := CheckModule(dir); len(got) != 0 {
				t.Fatalf("the clean copy of %s already has findings: %v", tc.dir, got)
			}
			tc.plant(t, dir)
			got := CheckModule(dir)
			if len(got) != 1 {
				t.Fatalf("want exactly one [%s] finding, got %d: %v", tc.check, len(got), got)
			}
			if got[0].Check != tc.check || !strings.Contains(got[0].Msg, tc.want) {
				t.Fatalf("want [%s] containing %q, got %v", tc.check, tc.want, got[0])
			}
		})
	}
}

func TestFmtCatchesPlantedMistake(t *testing.T) {
	t.Parallel()
	dir := copyDir(t, secretDir)
	if got, err := FmtFindings(dir); err != nil || len(got) != 0 {
		t.Fatalf("clean copy: findings %v, error %v", got, err)
	}
	plant(t, dir, "variables.tf", "  type        = map(string)\n", "  type = map(string)\n")
	got, err := FmtFindings(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Check != CheckFmt || got[0].Pos != "variables.tf" {
		t.Fatalf("want one [fmt] finding for variables.tf, got %v", got)
	}
}

// The counterpart of the planted wildcard cases: the same patterns with
// their scoping condition, in each way a policy can be written, are
// accepted.
func TestCheckerAcceptsScopedWildcards(t *testing.T) {
	t.Parallel()
	dir := copyDir(t, rotatorDir)
	appendTo("main.tf", `
resource "aws_iam_role_policy" "scoped_json" {
  role = module.rotator.role_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = ["secretsmanager:DescribeSecret"]
      Resource  = local.account_secrets_arn
      Condition = { StringEquals = { "secretsmanager:ResourceTag/rotor:rotator" = "rotor" } }
    }]
  })
}

resource "aws_iam_role_policy" "scoped_literal" {
  role   = module.rotator.role_name
  policy = <<-EOT
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "arn:aws:kms:eu-west-1:123456789012:key/*", "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}}]}
  EOT
}
`)(t, dir)
	if got := CheckModule(dir); len(got) != 0 {
		t.Fatalf("scoped wildcards reported: %v", got)
	}
}

// A key policy is exempt only as a key policy: the module's key policy
// document attached to a role as well is read as a role policy, and both
// of its "*" statements are reported.
func TestKeyPolicyDocumentReusedForARoleIsChecked(t *testing.T) {
	t.Parallel()
	dir := copyDir(t, alertsDir)
	appendTo("main.tf", `
resource "aws_iam_role_policy" "planted" {
  role   = module.notifier.role_name
  policy = data.aws_iam_policy_document.topic_key[0].json
}
`)(t, dir)
	got := CheckModule(dir)
	if len(got) != 2 {
		t.Fatalf("want the key policy's two statements reported, got %d: %v", len(got), got)
	}
	for _, f := range got {
		if f.Check != CheckIAMWildcard || !strings.Contains(f.Msg, "data.aws_iam_policy_document.topic_key") {
			t.Errorf("unexpected finding %v", f)
		}
	}
}

// An inline key policy (jsonencode in aws_kms_key.policy) is exempt for
// KMS actions, not for Secrets Manager ones.
func TestInlineKeyPolicyExemptForKMSOnly(t *testing.T) {
	t.Parallel()
	dir := copyDir(t, alertsDir)
	appendTo("main.tf", `
resource "aws_kms_key" "planted" {
  tags = var.tags
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Principal = { AWS = "arn:aws:iam::123456789012:root" }, Action = "kms:*", Resource = "*" },
      { Effect = "Allow", Principal = { AWS = "arn:aws:iam::123456789012:root" }, Action = "secretsmanager:GetSecretValue", Resource = "*" },
    ]
  })
}
`)(t, dir)
	got := CheckModule(dir)
	if len(got) != 1 || !strings.Contains(got[0].Msg, "secretsmanager:GetSecretValue") {
		t.Fatalf("want one finding for the Secrets Manager statement, got %v", got)
	}
}
