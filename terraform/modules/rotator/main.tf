data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # `id` is the region name in provider 5.x and 6.x alike (6.x deprecates `name`).
  region = data.aws_region.current.id

  rotator_name   = "${var.name}-rotator"
  rotatenow_name = "${var.name}-rotatenow"

  # Variable defaults cannot use path.module, hence null meaning "this repo's dist/".
  rotator_zip_path   = var.rotator_zip_path != null ? var.rotator_zip_path : "${path.module}/../../../dist/rotator.zip"
  rotatenow_zip_path = var.rotatenow_zip_path != null ? var.rotatenow_zip_path : "${path.module}/../../../dist/rotatenow.zip"

  # Every secret of this account and region. Used only together with the
  # secretsmanager:ResourceTag condition below, never on its own.
  account_secrets_arn = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:*"

  # The outcome tags the rotator writes on a rotated secret
  # (rotation.OutcomeTagKeys), and the only keys TagResource is allowed for,
  # with the base-user pin (rotation.TagBaseUser) an alternating-users
  # secret gets at its first rotation.
  outcome_tag_keys = ["rotor:last-rotation", "rotor:last-error-step", "rotor:last-error", "rotor:last-version"]
  pin_tag_key      = "rotor:base-user"
  rotator_tag_keys = concat(local.outcome_tag_keys, [local.pin_tag_key])

  scope_by_arn = length(var.rotated_secret_arns) > 0
  scope_by_tag = var.rotated_secret_tag != null
  # Only the key and value are read, so an unknown object still plans.
  scope_tag_condition_key = local.scope_by_tag ? "secretsmanager:ResourceTag/${var.rotated_secret_tag.key}" : null
  scope_tag_value         = local.scope_by_tag ? var.rotated_secret_tag.value : null

  create_endpoint = var.create && var.enable_vpc && var.create_secretsmanager_endpoint

  # A VPC endpoint without private DNS is only used when named explicitly.
  secrets_manager_endpoint = var.secrets_manager_endpoint != null ? var.secrets_manager_endpoint : (
    local.create_endpoint && !var.secretsmanager_endpoint_private_dns_enabled ? "https://${aws_vpc_endpoint.secretsmanager[0].dns_entry[0].dns_name}" : null
  )
}

# ---------------------------------------------------------------------------
# IAM: one role per function, inline policies only (no AWS managed policies:
# AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole grant
# logs:* actions on every log group of the account). The documents are
# written here, where each function's purpose is; the roles, log groups and
# functions they are attached to are built by ../function (see Functions),
# which also grants a function in a VPC its network-interface actions.
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "rotator" {
  count = var.create ? 1 : 0

  # The four-step protocol: read the current version, store AWSPENDING, move
  # AWSCURRENT. On the listed secrets only.
  dynamic "statement" {
    for_each = local.scope_by_arn ? [1] : []
    content {
      sid = "RotateListedSecrets"
      actions = [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
      ]
      resources = var.rotated_secret_arns
    }
  }

  # The same on every secret that carries the scope tag. The rotator cannot
  # put that tag on another secret: TagResource below is limited to the
  # outcome tag keys, and UntagResource is not granted at all.
  dynamic "statement" {
    for_each = local.scope_by_tag ? [1] : []
    content {
      sid = "RotateTaggedSecrets"
      actions = [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
      ]
      resources = [local.account_secrets_arn]

      condition {
        test     = "StringEquals"
        variable = local.scope_tag_condition_key
        values   = [local.scope_tag_value]
      }
    }
  }

  # Outcome tags (local.outcome_tag_keys) and no other key: the request must carry tag keys
  # (Null = false) and every one of them must be an outcome key.
  dynamic "statement" {
    for_each = local.scope_by_arn ? [1] : []
    content {
      sid       = "TagListedSecretsWithOutcome"
      actions   = ["secretsmanager:TagResource"]
      resources = var.rotated_secret_arns

      condition {
        test     = "ForAllValues:StringEquals"
        variable = "aws:TagKeys"
        values   = local.rotator_tag_keys
      }

      condition {
        test     = "Null"
        variable = "aws:TagKeys"
        values   = ["false"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.scope_by_tag ? [1] : []
    content {
      sid       = "TagTaggedSecretsWithOutcome"
      actions   = ["secretsmanager:TagResource"]
      resources = [local.account_secrets_arn]

      condition {
        test     = "StringEquals"
        variable = local.scope_tag_condition_key
        values   = [local.scope_tag_value]
      }

      condition {
        test     = "ForAllValues:StringEquals"
        variable = "aws:TagKeys"
        values   = local.rotator_tag_keys
      }

      condition {
        test     = "Null"
        variable = "aws:TagKeys"
        values   = ["false"]
      }
    }
  }

  # Alternating users: log in as the admin named by `masterarn`. Read only.
  dynamic "statement" {
    for_each = length(var.master_secret_arns) > 0 ? [1] : []
    content {
      sid       = "ReadMasterSecrets"
      actions   = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
      resources = var.master_secret_arns
    }
  }

  # An RDS-managed master secret holds only username and password; the
  # rotator describes the instance or cluster named by the secret's
  # aws:rds:primarydbinstancearn / aws:rds:primarydbclusterarn tag. It calls
  # Describe* with that one identifier, which IAM authorizes against the db /
  # cluster ARN, so the statement is scoped to the listed ARNs instead of "*".
  # (An unfiltered Describe listing every instance would need "*"; rotor
  # never makes one.) IAM ignores the action/resource pairs that do not
  # match (DescribeDBClusters on a db ARN), so one statement serves both.
  dynamic "statement" {
    for_each = length(var.rds_resource_arns) > 0 ? [1] : []
    content {
      sid       = "DescribeMasterDatabases"
      actions   = ["rds:DescribeDBInstances", "rds:DescribeDBClusters"]
      resources = var.rds_resource_arns
    }
  }

  # rds-master: change the master password of the listed instances and
  # clusters through RDS and describe them until the change has applied.
  # Each call names one identifier, which IAM authorizes against that ARN.
  dynamic "statement" {
    for_each = length(var.rds_master_arns) > 0 ? [1] : []
    content {
      sid       = "RotateRDSMasterPasswords"
      actions   = ["rds:ModifyDBInstance", "rds:ModifyDBCluster", "rds:DescribeDBInstances", "rds:DescribeDBClusters"]
      resources = var.rds_master_arns
    }
  }

  # Alternating users: before the admin acts, the rotator looks for another
  # secret pinned to the same base user (tag rotor:base-user), which would
  # reset this secret's AWSCURRENT. ListSecrets has no resource-level
  # permissions (AWS accepts only "*"); it returns metadata, never values.
  dynamic "statement" {
    for_each = length(var.master_secret_arns) > 0 ? [1] : []
    content {
      sid       = "FindSecretsSharingABaseUser"
      actions   = ["secretsmanager:ListSecrets"]
      resources = ["*"]
    }
  }

  # Customer managed keys, only through Secrets Manager in this region:
  # Decrypt for GetSecretValue, GenerateDataKey for PutSecretValue.
  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "UseSecretKeysThroughSecretsManager"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.kms_key_arns

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }

  lifecycle {
    precondition {
      condition     = local.scope_by_arn || local.scope_by_tag
      error_message = "Give rotated_secret_arns, rotated_secret_tag or both: the functions must know which secrets they may touch."
    }
  }
}

data "aws_iam_policy_document" "rotatenow" {
  count = var.create ? 1 : 0

  # Start a rotation and follow it (DescribeSecret only). No GetSecretValue:
  # rotatenow never sees a secret's value.
  dynamic "statement" {
    for_each = local.scope_by_arn ? [1] : []
    content {
      sid = "RotateListedSecretsNow"
      actions = [
        "secretsmanager:RotateSecret",
        "secretsmanager:DescribeSecret",
      ]
      resources = var.rotated_secret_arns
    }
  }

  dynamic "statement" {
    for_each = local.scope_by_tag ? [1] : []
    content {
      sid = "RotateTaggedSecretsNow"
      actions = [
        "secretsmanager:RotateSecret",
        "secretsmanager:DescribeSecret",
      ]
      resources = [local.account_secrets_arn]

      condition {
        test     = "StringEquals"
        variable = local.scope_tag_condition_key
        values   = [local.scope_tag_value]
      }
    }
  }

  # `filters` requests resolve secrets with ListSecrets, which has no
  # resource-level permissions: AWS only accepts Resource "*" for it. It
  # returns metadata (names, ARNs, tags), never values, and rotatenow can
  # only rotate what the statements above allow.
  statement {
    sid       = "ResolveFilters"
    actions   = ["secretsmanager:ListSecrets"]
    resources = ["*"]
  }

  # RotateSecret also checks that its caller may invoke the secret's rotation
  # function (AWS API reference, RotateSecret: "You also need
  # lambda:InvokeFunction permissions on the rotation function"). Secrets
  # Manager then makes the invocations itself. Only this module's rotator.
  statement {
    sid       = "StartRotatorThroughSecretsManager"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.rotator[0].function_arn]
  }
}

# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------

# Each function's log group, role, inline policy (the documents above) and
# aws_lambda_function, built the same way by the internal function module.
module "rotator" {
  source = "../function"
  count  = var.create ? 1 : 0

  function         = "rotator"
  name             = local.rotator_name
  description      = "rotor: rotates database credentials in Secrets Manager, one step per invocation"
  role_description = "rotor rotator: rotates the secrets in scope when Secrets Manager invokes it"

  zip_path                       = local.rotator_zip_path
  s3_bucket                      = var.s3_bucket
  s3_key                         = var.rotator_s3_key
  s3_object_version              = var.rotator_s3_object_version
  architecture                   = var.architecture
  layers                         = var.layers
  memory_size                    = var.memory_size
  timeout                        = var.rotator_timeout_seconds
  reserved_concurrent_executions = var.rotator_reserved_concurrency != null ? var.rotator_reserved_concurrency : -1

  # Names from internal/config.FunctionEnv["rotator"]; unset (null)
  # settings are left out so the function's own defaults apply.
  environment = { for k, v in {
    ROTATION_STRATEGY          = var.rotation_strategy
    PASSWORD_LENGTH            = tostring(var.password_length)
    EXCLUDE_CHARACTERS         = var.exclude_characters
    EXCLUDE_NUMBERS            = tostring(var.exclude_numbers)
    EXCLUDE_PUNCTUATION        = tostring(var.exclude_punctuation)
    EXCLUDE_UPPERCASE          = tostring(var.exclude_uppercase)
    EXCLUDE_LOWERCASE          = tostring(var.exclude_lowercase)
    REQUIRE_EACH_INCLUDED_TYPE = tostring(var.require_each_included_type)
    DB_TLS                     = var.db_tls
    DB_CA_BUNDLE               = var.db_ca_bundle
    DB_CONNECT_TIMEOUT         = "${var.db_connect_timeout_seconds}s"
    PREVIOUS_USER_SESSIONS     = var.previous_user_sessions
    ADMIN_SECRET_ARNS          = length(var.master_secret_arns) > 0 ? join(",", var.master_secret_arns) : null
    METRICS_NAMESPACE          = var.metrics_namespace
    SECRETS_MANAGER_ENDPOINT   = local.secrets_manager_endpoint
  } : k => v if v != null }

  policy                        = data.aws_iam_policy_document.rotator[0].json
  role_permissions_boundary_arn = var.role_permissions_boundary
  role_name                     = var.rotator_role_name
  role_name_prefix              = var.role_name_prefix
  log_level                     = var.log_level
  log_retention_days            = var.cloudwatch_logs_retention_in_days
  log_kms_key_arn               = var.log_kms_key_arn

  vpc_config = var.enable_vpc ? {
    subnet_ids         = var.subnet_ids
    security_group_ids = [module.rotator_egress[0].security_group_id]
  } : null

  preconditions = [
    {
      condition     = var.db_connect_timeout_seconds * 3 <= var.rotator_timeout_seconds
      error_message = "db_connect_timeout_seconds must be at most a third of rotator_timeout_seconds: a step may connect several times."
    },
    {
      condition     = !var.enable_vpc || (var.vpc_id != null && length(var.subnet_ids) > 0)
      error_message = "enable_vpc needs vpc_id and at least one subnet in subnet_ids."
    },
    {
      condition     = !var.enable_vpc || length(var.database_security_group_ids) + length(var.database_cidr_blocks) > 0
      error_message = "enable_vpc needs database_security_group_ids or database_cidr_blocks: the rotator's security group allows egress only to the databases and to 443."
    },
    {
      condition     = !var.create_secretsmanager_endpoint || var.enable_vpc
      error_message = "create_secretsmanager_endpoint needs enable_vpc."
    },
  ]

  tags = var.tags
}

module "rotatenow" {
  source = "../function"
  count  = var.create ? 1 : 0

  function         = "rotatenow"
  name             = local.rotatenow_name
  description      = "rotor: rotates the given secrets now and reports, per secret, whether it worked"
  role_description = "rotor rotatenow: starts and follows rotations of the secrets in scope"

  zip_path          = local.rotatenow_zip_path
  s3_bucket         = var.s3_bucket
  s3_key            = var.rotatenow_s3_key
  s3_object_version = var.rotatenow_s3_object_version
  architecture      = var.architecture
  memory_size       = var.memory_size
  # Room to report after the longest wait it is configured for.
  timeout = var.rotatenow_wait_timeout_seconds + 30
  # One invocation at a time: each paces its rotations against its own
  # write budget, so two at once would ask for twice the budget from the
  # region's one quota (docs/operations.md).
  reserved_concurrent_executions = var.rotatenow_reserved_concurrency

  # Names from internal/config.FunctionEnv["rotatenow"]. No
  # SECRETS_MANAGER_ENDPOINT: rotatenow runs outside the VPC, where a VPC
  # endpoint's DNS name is not reachable.
  environment = {
    ROTATE_NOW_CONCURRENCY       = tostring(var.rotatenow_concurrency)
    ROTATE_NOW_TIMEOUT_SECONDS   = tostring(var.rotatenow_wait_timeout_seconds)
    ROTATE_NOW_WRITES_PER_SECOND = tostring(var.rotatenow_writes_per_second)
  }

  policy                        = data.aws_iam_policy_document.rotatenow[0].json
  role_permissions_boundary_arn = var.role_permissions_boundary
  role_name                     = var.rotatenow_role_name
  role_name_prefix              = var.role_name_prefix
  log_level                     = var.log_level
  log_retention_days            = var.cloudwatch_logs_retention_in_days
  log_kms_key_arn               = var.log_kms_key_arn

  tags = var.tags
}

# Existing deployments keep their resources: the old addresses are the
# function module's now, and since the create flag, its first instance.
moved {
  from = module.rotator
  to   = module.rotator[0]
}

moved {
  from = module.rotatenow
  to   = module.rotatenow[0]
}

moved {
  from = aws_lambda_permission.secretsmanager
  to   = aws_lambda_permission.secretsmanager[0]
}

moved {
  from = aws_cloudwatch_log_group.rotator
  to   = module.rotator[0].aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.rotator
  to   = module.rotator[0].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.rotator
  to   = module.rotator[0].aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.rotator
  to   = module.rotator[0].aws_lambda_function.this
}

moved {
  from = aws_cloudwatch_log_group.rotatenow
  to   = module.rotatenow[0].aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.rotatenow
  to   = module.rotatenow[0].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.rotatenow
  to   = module.rotatenow[0].aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.rotatenow
  to   = module.rotatenow[0].aws_lambda_function.this
}

# Secrets Manager invokes the rotator. source_account stops another account's
# secret from using this function (confused deputy): Secrets Manager passes
# the secret's account, and only this one is accepted.
resource "aws_lambda_permission" "secretsmanager" {
  count = var.create ? 1 : 0

  statement_id   = "AllowSecretsManagerInvoke"
  action         = "lambda:InvokeFunction"
  function_name  = module.rotator[0].function_name
  principal      = "secretsmanager.amazonaws.com"
  source_account = local.account_id
}

# ---------------------------------------------------------------------------
# Network: the rotator's security group (../database-egress) and the
# optional Secrets Manager endpoint
# ---------------------------------------------------------------------------

module "rotator_egress" {
  source = "../database-egress"
  count  = var.create && var.enable_vpc ? 1 : 0

  name                        = local.rotator_name
  description                 = "rotor rotator: egress to the databases and to 443 only, no ingress"
  vpc_id                      = var.vpc_id
  database_ports              = var.database_ports
  database_security_group_ids = var.database_security_group_ids
  database_cidr_blocks        = var.database_cidr_blocks
  https_egress_cidr_blocks    = var.https_egress_cidr_blocks
  tags                        = var.tags
}

# Existing deployments keep their security group and rules: they were this
# module's own resources before ../database-egress held them.
moved {
  from = aws_security_group.rotator[0]
  to   = module.rotator_egress[0].aws_security_group.this
}

moved {
  from = aws_vpc_security_group_egress_rule.rotator_database_sg
  to   = module.rotator_egress[0].aws_vpc_security_group_egress_rule.database_sg
}

moved {
  from = aws_vpc_security_group_egress_rule.rotator_database_cidr
  to   = module.rotator_egress[0].aws_vpc_security_group_egress_rule.database_cidr
}

moved {
  from = aws_vpc_security_group_egress_rule.rotator_https_cidr
  to   = module.rotator_egress[0].aws_vpc_security_group_egress_rule.https
}

resource "aws_vpc_security_group_egress_rule" "rotator_https_endpoint" {
  count = local.create_endpoint ? 1 : 0

  security_group_id            = module.rotator_egress[0].security_group_id
  description                  = "HTTPS to the Secrets Manager VPC endpoint"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.secretsmanager_endpoint[0].id
  tags                         = var.tags
}

resource "aws_security_group" "secretsmanager_endpoint" {
  count = local.create_endpoint ? 1 : 0

  name_prefix = "${var.name}-secretsmanager-endpoint-"
  description = "rotor: Secrets Manager endpoint, 443 from the rotator only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-secretsmanager-endpoint" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "secretsmanager_endpoint_from_rotator" {
  count = local.create_endpoint ? 1 : 0

  security_group_id            = aws_security_group.secretsmanager_endpoint[0].id
  description                  = "HTTPS from the rotor rotator"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = module.rotator_egress[0].security_group_id
  tags                         = var.tags
}

resource "aws_vpc_endpoint" "secretsmanager" {
  count = local.create_endpoint ? 1 : 0

  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.${local.region}.secretsmanager"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = var.subnet_ids
  security_group_ids  = [aws_security_group.secretsmanager_endpoint[0].id]
  private_dns_enabled = var.secretsmanager_endpoint_private_dns_enabled
  tags                = merge(var.tags, { Name = "${var.name}-secretsmanager" })
}
