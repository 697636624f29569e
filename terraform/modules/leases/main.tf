# rotor leases: the issuer (a database user of its own for each caller,
# valid for a TTL) and the reaper (drops the users whose time has passed, on
# a schedule), with one least-privilege role each. See README.md for why
# this is a module of its own rather than an option of `rotator`.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # `id` is the region name in provider 5.x and 6.x alike.
  region = data.aws_region.current.id

  issuer_name = "${var.name}-issuer"
  reaper_name = "${var.name}-reaper"

  # Variable defaults cannot use path.module, hence null meaning "this repo's dist/".
  issuer_zip_path = var.issuer_zip_path != null ? var.issuer_zip_path : "${path.module}/../../../dist/issuer.zip"
  reaper_zip_path = var.reaper_zip_path != null ? var.reaper_zip_path : "${path.module}/../../../dist/reaper.zip"

  # The only secrets either function may read: the role definitions' admins.
  admin_secret_arns = distinct([for r in var.roles : r.admin_secret_arn])

  # LEASE_ROLES (docs/leases.md): the wire names of the role definition.
  lease_roles_json = jsonencode([for r in var.roles : {
    name              = r.name
    adminSecretArn    = r.admin_secret_arn
    groupRole         = r.group_role
    defaultTtlSeconds = r.default_ttl_seconds
    maxTtlSeconds     = r.max_ttl_seconds
    engine            = r.engine
  }])

  # Both functions read the same settings (docs/leases.md); unset (null)
  # ones are left out so the functions' own defaults apply.
  environment = { for k, v in {
    LEASE_ROLES              = local.lease_roles_json
    ADMIN_SECRET_ARNS        = join(",", local.admin_secret_arns)
    DB_TLS                   = var.db_tls
    DB_CA_BUNDLE             = var.db_ca_bundle
    DB_CONNECT_TIMEOUT       = "${var.db_connect_timeout_seconds}s"
    METRICS_NAMESPACE        = var.metrics_namespace
    SECRETS_MANAGER_ENDPOINT = var.secrets_manager_endpoint
  } : k => v if v != null }

  # Both functions' errors alarms (the function module's), to the alerts
  # module's topic when given.
  errors_alarm = var.alarm_topic_arn == null ? null : {
    topic_arn    = var.alarm_topic_arn
    failure_note = " (refused requests are answers, not errors)"
  }

  vpc_preconditions = [
    {
      condition     = !var.enable_vpc || (var.vpc_id != null && length(var.subnet_ids) > 0)
      error_message = "enable_vpc needs vpc_id and at least one subnet in subnet_ids."
    },
    {
      condition     = !var.enable_vpc || length(var.database_security_group_ids) + length(var.database_cidr_blocks) > 0
      error_message = "enable_vpc needs database_security_group_ids or database_cidr_blocks: the functions' security group allows egress only to the databases and to 443."
    },
  ]
}

# ---------------------------------------------------------------------------
# IAM: one role per function, inline policies only. Both read the admin
# secrets of the role definitions and nothing else of Secrets Manager; the
# roles, log groups and functions are built by ../function, which also
# grants a function in a VPC its network-interface actions.
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "functions" {
  count = var.create ? 1 : 0

  # Log in as the admin that creates (issuer) and drops (reaper) lease
  # users. Read only, by ARN: no secret outside the role definitions.
  statement {
    sid       = "ReadAdminSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = local.admin_secret_arns
  }

  # RDS-managed admin secrets hold only a username and password: the
  # functions read the secret's aws:rds:primarydb* tag (DescribeSecret) and
  # describe that one instance or cluster for its endpoint. Each Describe
  # names one identifier, which IAM authorizes against its ARN.
  dynamic "statement" {
    for_each = length(var.rds_resource_arns) > 0 ? [1] : []
    content {
      sid       = "FindRDSManagedAdminDatabases"
      actions   = ["secretsmanager:DescribeSecret"]
      resources = local.admin_secret_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.rds_resource_arns) > 0 ? [1] : []
    content {
      sid       = "DescribeAdminDatabases"
      actions   = ["rds:DescribeDBInstances", "rds:DescribeDBClusters"]
      resources = var.rds_resource_arns
    }
  }

  # Customer managed keys of the admin secrets, through Secrets Manager in
  # this region only.
  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "DecryptAdminSecretsThroughSecretsManager"
      actions   = ["kms:Decrypt"]
      resources = var.kms_key_arns

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }
}

# What a caller needs to get leases: invoke the issuer, nothing else.
# Attach it to the application's role (output invoke_policy_json).
data "aws_iam_policy_document" "invoke" {
  count = var.create ? 1 : 0

  statement {
    sid       = "InvokeLeaseIssuer"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.issuer[0].function_arn]
  }
}

# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------

module "issuer" {
  source = "../function"
  count  = var.create ? 1 : 0

  function         = "issuer"
  name             = local.issuer_name
  description      = "rotor: issues short-lived database users of the configured role definitions"
  role_description = "rotor issuer: logs in with the role definitions' admin secrets to create, renew and revoke lease users"

  zip_path                       = local.issuer_zip_path
  s3_bucket                      = var.s3_bucket
  s3_key                         = var.issuer_s3_key
  s3_object_version              = var.issuer_s3_object_version
  architecture                   = var.architecture
  layers                         = var.layers
  memory_size                    = var.memory_size
  timeout                        = var.issuer_timeout_seconds
  reserved_concurrent_executions = var.issuer_reserved_concurrency

  # Names from internal/config.FunctionEnv["issuer"] (docs/leases.md).
  environment = local.environment

  policy                        = data.aws_iam_policy_document.functions[0].json
  role_permissions_boundary_arn = var.role_permissions_boundary
  role_name                     = var.issuer_role_name
  role_name_prefix              = var.role_name_prefix
  log_level                     = var.log_level
  log_retention_days            = var.cloudwatch_logs_retention_in_days
  log_kms_key_arn               = var.log_kms_key_arn

  vpc_config = var.enable_vpc ? {
    subnet_ids         = var.subnet_ids
    security_group_ids = [module.egress[0].security_group_id]
  } : null

  preconditions = concat(local.vpc_preconditions, [
    {
      condition     = var.db_connect_timeout_seconds * 3 <= var.issuer_timeout_seconds
      error_message = "db_connect_timeout_seconds must be at most a third of issuer_timeout_seconds."
    },
  ])

  errors_alarm = local.errors_alarm

  tags = var.tags
}

module "reaper" {
  source = "../function"
  count  = var.create ? 1 : 0

  function         = "reaper"
  name             = local.reaper_name
  description      = "rotor: drops the lease users whose expiry has passed"
  role_description = "rotor reaper: logs in with the role definitions' admin secrets to drop expired lease users"

  zip_path          = local.reaper_zip_path
  s3_bucket         = var.s3_bucket
  s3_key            = var.reaper_s3_key
  s3_object_version = var.reaper_s3_object_version
  architecture      = var.architecture
  layers            = var.layers
  memory_size       = var.memory_size
  timeout           = var.reaper_timeout_seconds
  # One run at a time: runs are idempotent, a second one would only race
  # the first to the same users.
  reserved_concurrent_executions = 1

  # Names from internal/config.FunctionEnv["reaper"] (docs/leases.md).
  environment = local.environment

  policy                        = data.aws_iam_policy_document.functions[0].json
  role_permissions_boundary_arn = var.role_permissions_boundary
  role_name                     = var.reaper_role_name
  role_name_prefix              = var.role_name_prefix
  log_level                     = var.log_level
  log_retention_days            = var.cloudwatch_logs_retention_in_days
  log_kms_key_arn               = var.log_kms_key_arn

  vpc_config = var.enable_vpc ? {
    subnet_ids         = var.subnet_ids
    security_group_ids = [module.egress[0].security_group_id]
  } : null

  preconditions = local.vpc_preconditions

  # On a schedule, not retried: runs are idempotent and the next scheduled
  # one retries anyway; failures show in the errors alarm.
  async_retries = 0
  schedule = {
    rule_name      = "${var.name}-reap-leases"
    description    = "rotor: run the lease reaper"
    expression     = var.reaper_schedule_expression
    statement_id   = "EventBridgeReapSchedule"
    source_account = local.account_id
  }

  errors_alarm = local.errors_alarm

  tags = var.tags
}

# The reaper's schedule and retry setting are the function module's
# (schedule, async_retries).
moved {
  from = aws_cloudwatch_event_rule.reap[0]
  to   = module.reaper[0].aws_cloudwatch_event_rule.schedule[0]
}

moved {
  from = aws_cloudwatch_event_target.reaper[0]
  to   = module.reaper[0].aws_cloudwatch_event_target.schedule[0]
}

moved {
  from = aws_lambda_permission.reaper_schedule[0]
  to   = module.reaper[0].aws_lambda_permission.schedule[0]
}

moved {
  from = aws_lambda_function_event_invoke_config.reaper[0]
  to   = module.reaper[0].aws_lambda_function_event_invoke_config.this[0]
}

# ---------------------------------------------------------------------------
# Alarms, to the alerts module's topic when given
# ---------------------------------------------------------------------------

# The issuer's and the reaper's errors alarms are the function module's
# (errors_alarm).
moved {
  from = aws_cloudwatch_metric_alarm.function_errors["issuer"]
  to   = module.issuer[0].aws_cloudwatch_metric_alarm.errors[0]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["reaper"]
  to   = module.reaper[0].aws_cloudwatch_metric_alarm.errors[0]
}

# A lease user the reaper could not drop (internal/metrics
# MetricLeaseReapFailures; its log line names the user and why, and every
# run retries). The run also fails, so the errors alarm fires too; this one
# stays in alarm until a run drops everything.
resource "aws_cloudwatch_metric_alarm" "reap_failures" {
  count = var.create && var.alarm_topic_arn != null ? 1 : 0

  alarm_name          = "${var.name}-lease-reap-failures"
  alarm_description   = "The rotor reaper could not drop an expired lease user (it can no longer log in on PostgreSQL; on MariaDB it still can). Its ERROR line in /aws/lambda/${module.reaper[0].function_name} names the user and why; docs/leases.md#limits says what to do."
  namespace           = var.metrics_namespace
  metric_name         = "LeaseReapFailures"
  dimensions          = { FunctionName = module.reaper[0].function_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "ignore"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}

# ---------------------------------------------------------------------------
# Network: one security group for both functions (../database-egress),
# egress to the databases and to 443 only, no ingress
# ---------------------------------------------------------------------------

module "egress" {
  source = "../database-egress"
  count  = var.create && var.enable_vpc ? 1 : 0

  name                        = "${var.name}-leases"
  description                 = "rotor issuer and reaper: egress to the databases and to 443 only, no ingress"
  vpc_id                      = var.vpc_id
  database_ports              = var.database_ports
  database_security_group_ids = var.database_security_group_ids
  database_cidr_blocks        = var.database_cidr_blocks
  https_egress_cidr_blocks    = var.https_egress_cidr_blocks
  https_description           = "HTTPS to Secrets Manager"
  tags                        = var.tags
}

# Existing deployments keep their security group and rules: they were this
# module's own resources before ../database-egress held them.
moved {
  from = aws_security_group.functions[0]
  to   = module.egress[0].aws_security_group.this
}

moved {
  from = aws_vpc_security_group_egress_rule.database_sg
  to   = module.egress[0].aws_vpc_security_group_egress_rule.database_sg
}

moved {
  from = aws_vpc_security_group_egress_rule.database_cidr
  to   = module.egress[0].aws_vpc_security_group_egress_rule.database_cidr
}

moved {
  from = aws_vpc_security_group_egress_rule.https
  to   = module.egress[0].aws_vpc_security_group_egress_rule.https
}
