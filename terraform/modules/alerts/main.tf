data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # `id` is the region name in provider 5.x and 6.x alike.
  region = data.aws_region.current.id

  topic_name    = "${var.name}-alerts"
  notifier_name = "${var.name}-notifier"
  auditor_name  = "${var.name}-auditor"

  # Variable defaults cannot use path.module, hence null meaning "this repo's dist/".
  notifier_zip_path = var.notifier_zip_path != null ? var.notifier_zip_path : "${path.module}/../../../dist/notifier.zip"
  auditor_zip_path  = var.auditor_zip_path != null ? var.auditor_zip_path : "${path.module}/../../../dist/auditor.zip"

  function_arns = length(var.rotation_function_arns) > 0 ? var.rotation_function_arns : ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:*"]

  # The secrets the functions may describe, tag and list versions of: the
  # same scope as the rotator module's (rotated_secret_arns and/or
  # rotated_secret_tag). Every secret of the account is used only together
  # with the secretsmanager:ResourceTag condition, never on its own.
  account_secrets_arn     = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:*"
  scope_by_arn            = length(var.rotated_secret_arns) > 0
  scope_by_tag            = var.rotated_secret_tag != null
  scope_tag_condition_key = local.scope_by_tag ? "secretsmanager:ResourceTag/${var.rotated_secret_tag.key}" : null
  scope_tag_value         = local.scope_by_tag ? var.rotated_secret_tag.value : null

  # The notifier's idempotency record (alerting.TagLastAlert): the only
  # tag key it may write.
  alert_tag_keys = ["rotor:last-alert"]

  # Secrets Manager rotation events arrive as CloudTrail service events
  # (events/eventbridge.go has a recorded example). TestRotationFailed is the
  # check run by RotateSecret with rotate_immediately = false.
  rotation_failure_pattern = {
    source        = ["aws.secretsmanager"]
    "detail-type" = ["AWS Service Event via CloudTrail"]
    detail = {
      eventSource = ["secretsmanager.amazonaws.com"]
      eventName   = ["RotationFailed", "RotationAbandoned", "TestRotationFailed"]
    }
  }

  # The topic's customer managed key: the one given, else the module's own
  # (create_kms_key). Decided from variables only, so counts plan before
  # the key exists. CloudWatch and EventBridge cannot publish to a topic
  # under alias/aws/sns, hence alarms and raw delivery need this key.
  create_kms_key = var.create && var.kms_key_arn == null && var.create_kms_key
  use_cmk        = var.kms_key_arn != null || var.create_kms_key
  topic_key_arn  = var.kms_key_arn != null ? var.kms_key_arn : try(aws_kms_key.alerts[0].arn, null)

  alarms_enabled = var.create && var.create_alarms && local.use_cmk
  raw_delivery   = var.create && var.enable_raw_event_delivery && local.use_cmk

  # The functions' names, for the alarms and the dashboard; null when
  # create is false.
  function_names = {
    notifier = try(module.notifier[0].function_name, null)
    auditor  = try(module.auditor[0].function_name, null)
  }

  # The rotator's step metrics carry FunctionName in every dimension set
  # (internal/metrics.WithFunctionName). With rotator_function_name the
  # dashboard shows that rotator only; without it, every rotator writing
  # to metrics_namespace, labelled by function.
  rotator_search_filter = var.rotator_function_name == null ? "" : " FunctionName=\"${var.rotator_function_name}\""
  rotator_label         = var.rotator_function_name == null ? "$${PROP('Dim.FunctionName')} " : ""

  # The auditor's finding metrics (internal/alerting) and what each means.
  finding_metrics = {
    OverdueSecrets   = "secrets whose rotation window closed without a rotation"
    StuckRotations   = "secrets with AWSPENDING left on a non-current version"
    FailedRotations  = "secrets whose last rotation failed (rotor:last-rotation)"
    MissingFunctions = "secrets whose rotation function is missing or not invokable"
  }
}

check "alarms_need_a_customer_managed_key" {
  assert {
    condition     = !var.create || !var.create_alarms || local.use_cmk
    error_message = "create_alarms is true but there is no customer managed key (create_kms_key = false, kms_key_arn = null): CloudWatch alarms cannot publish to a topic encrypted with alias/aws/sns, so no alarm is created. Keep create_kms_key = true or give kms_key_arn."
  }
}

check "raw_delivery_needs_a_customer_managed_key" {
  assert {
    condition     = !var.create || !var.enable_raw_event_delivery || local.use_cmk
    error_message = "enable_raw_event_delivery is true but there is no customer managed key: EventBridge cannot publish to a topic encrypted with alias/aws/sns, so raw events are not delivered."
  }
}

# ---------------------------------------------------------------------------
# Topic and its key
# ---------------------------------------------------------------------------

# The key policy. In a key policy Resource "*" means this key, nothing
# else. The account administers the key and, through IAM policies (the
# module's roles: kms:ViaService sns only), uses it; the AWS services that
# publish to the topic may encrypt and decrypt with it, for this account's
# resources only (aws:SourceAccount).
data "aws_iam_policy_document" "topic_key" {
  count = local.create_kms_key ? 1 : 0

  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "ServicesPublishToAlertTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type = "Service"
      identifiers = [
        "cloudwatch.amazonaws.com",
        "events.amazonaws.com",
        "sns.amazonaws.com",
      ]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "alerts" {
  count = local.create_kms_key ? 1 : 0

  description             = "rotor: encrypts the ${local.topic_name} SNS topic (alarms and EventBridge may publish)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.topic_key[0].json
  tags                    = var.tags
}

resource "aws_kms_alias" "alerts" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/${local.topic_name}"
  target_key_id = aws_kms_key.alerts[0].key_id
}

resource "aws_sns_topic" "alerts" {
  count = var.create ? 1 : 0

  name              = local.topic_name
  kms_master_key_id = local.use_cmk ? local.topic_key_arn : "alias/aws/sns"
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  count = var.create ? 1 : 0

  # What the default topic policy grants the owning account, restated
  # because a topic policy replaces it.
  statement {
    sid = "OwningAccountUsesTopic"
    actions = [
      "sns:Publish",
      "sns:Subscribe",
      "sns:GetTopicAttributes",
      "sns:ListSubscriptionsByTopic",
    ]
    resources = [aws_sns_topic.alerts[0].arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # EventBridge, for this module's rotation-failure rule only.
  statement {
    sid       = "EventBridgePublishesRotationFailures"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts[0].arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.rotation_failures[0].arn]
    }
  }

  # CloudWatch alarms of this account whose names carry this module's prefix.
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts[0].arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name}-*"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  count = var.create ? 1 : 0

  arn    = aws_sns_topic.alerts[0].arn
  policy = data.aws_iam_policy_document.topic[0].json
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = var.create ? toset(var.email_subscriptions) : toset([])
  topic_arn = aws_sns_topic.alerts[0].arn
  protocol  = "email"
  endpoint  = each.value
}

# ---------------------------------------------------------------------------
# IAM: one role per function, inline policies only. Neither function may
# read a secret value: no GetSecretValue anywhere. The documents are written
# here; the roles, log groups and functions are built by ../function (see
# Functions).
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "notifier" {
  count = var.create ? 1 : 0

  # Outcome tags, LastRotatedDate and labels: metadata only. On the
  # secrets in scope only, as the rotator.
  dynamic "statement" {
    for_each = local.scope_by_arn ? [1] : []
    content {
      sid       = "DescribeListedSecrets"
      actions   = ["secretsmanager:DescribeSecret"]
      resources = var.rotated_secret_arns
    }
  }

  dynamic "statement" {
    for_each = local.scope_by_tag ? [1] : []
    content {
      sid       = "DescribeTaggedSecrets"
      actions   = ["secretsmanager:DescribeSecret"]
      resources = [local.account_secrets_arn]

      condition {
        test     = "StringEquals"
        variable = local.scope_tag_condition_key
        values   = [local.scope_tag_value]
      }
    }
  }

  # The idempotency record, and no other key: the request must carry tag
  # keys (Null = false) and every one must be rotor:last-alert.
  dynamic "statement" {
    for_each = local.scope_by_arn ? [1] : []
    content {
      sid       = "RecordLastAlertOnListedSecrets"
      actions   = ["secretsmanager:TagResource"]
      resources = var.rotated_secret_arns

      condition {
        test     = "ForAllValues:StringEquals"
        variable = "aws:TagKeys"
        values   = local.alert_tag_keys
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
      sid       = "RecordLastAlertOnTaggedSecrets"
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
        values   = local.alert_tag_keys
      }

      condition {
        test     = "Null"
        variable = "aws:TagKeys"
        values   = ["false"]
      }
    }
  }

  statement {
    sid       = "PublishAlerts"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts[0].arn]
  }

  dynamic "statement" {
    for_each = local.use_cmk ? [1] : []
    content {
      sid       = "EncryptAlertsThroughSNS"
      actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
      resources = [local.topic_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sns.${local.region}.amazonaws.com"]
      }
    }
  }

  lifecycle {
    precondition {
      condition     = local.scope_by_arn || local.scope_by_tag
      error_message = "Give rotated_secret_arns, rotated_secret_tag or both (the rotator module's values): the functions must know which secrets they may describe and tag."
    }
  }
}

data "aws_iam_policy_document" "auditor" {
  count = var.create ? 1 : 0

  # ListSecrets has no resource-level permissions: AWS only accepts "*".
  # It returns metadata (names, tags, schedules, labels), never values.
  statement {
    sid       = "ListSecrets"
    actions   = ["secretsmanager:ListSecrets"]
    resources = ["*"]
  }

  # The creation date of a version left AWSPENDING (stuck rotations), on
  # the secrets in scope only. A stuck secret outside the scope is counted
  # in AuditErrors (access denied), not silently skipped.
  dynamic "statement" {
    for_each = local.scope_by_arn ? [1] : []
    content {
      sid       = "ListVersionsOfListedSecrets"
      actions   = ["secretsmanager:ListSecretVersionIds"]
      resources = var.rotated_secret_arns
    }
  }

  dynamic "statement" {
    for_each = local.scope_by_tag ? [1] : []
    content {
      sid       = "ListVersionsOfTaggedSecrets"
      actions   = ["secretsmanager:ListSecretVersionIds"]
      resources = [local.account_secrets_arn]

      condition {
        test     = "StringEquals"
        variable = local.scope_tag_condition_key
        values   = [local.scope_tag_value]
      }
    }
  }

  # Configuration only (State, StateReason): not GetFunction, which also
  # hands out a link to the function's code.
  statement {
    sid       = "CheckRotationFunctions"
    actions   = ["lambda:GetFunctionConfiguration"]
    resources = local.function_arns
  }

  statement {
    sid       = "PublishAlerts"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts[0].arn]
  }

  dynamic "statement" {
    for_each = local.use_cmk ? [1] : []
    content {
      sid       = "EncryptAlertsThroughSNS"
      actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
      resources = [local.topic_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sns.${local.region}.amazonaws.com"]
      }
    }
  }
}

# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------

# Each function's log group, role, inline policy (the documents above) and
# aws_lambda_function, built the same way by the internal function module.
module "notifier" {
  source = "../function"
  count  = var.create ? 1 : 0

  function         = "notifier"
  name             = local.notifier_name
  description      = "rotor: one SNS alert per Secrets Manager rotation failure"
  role_description = "rotor notifier: turns Secrets Manager rotation failures into SNS alerts"

  zip_path          = local.notifier_zip_path
  s3_bucket         = var.s3_bucket
  s3_key            = var.notifier_s3_key
  s3_object_version = var.notifier_s3_object_version
  architecture      = var.architecture
  memory_size       = 128
  timeout           = 30

  # Names from internal/config.FunctionEnv["notifier"].
  environment = { for k, v in {
    SNS_TOPIC_ARN            = aws_sns_topic.alerts[0].arn
    SECRETS_MANAGER_ENDPOINT = var.secrets_manager_endpoint
  } : k => v if v != null }

  policy                        = data.aws_iam_policy_document.notifier[0].json
  role_permissions_boundary_arn = var.role_permissions_boundary
  role_name                     = var.notifier_role_name
  role_name_prefix              = var.role_name_prefix
  log_level                     = var.log_level
  log_retention_days            = var.cloudwatch_logs_retention_in_days
  log_kms_key_arn               = var.log_kms_key_arn

  # Idempotent per event (rotor:last-alert): Lambda's retries of a failed
  # delivery are safe.
  async_retries = 2

  errors_alarm = local.alarms_enabled ? {
    topic_arn    = aws_sns_topic.alerts[0].arn
    failure_note = ", so alerts may be missing"
  } : null

  tags = var.tags
}

module "auditor" {
  source = "../function"
  count  = var.create ? 1 : 0

  function         = "auditor"
  name             = local.auditor_name
  description      = "rotor: audits rotation-enabled secrets on a schedule"
  role_description = "rotor auditor: reports overdue, stuck and failed rotations and missing rotation functions"

  zip_path          = local.auditor_zip_path
  s3_bucket         = var.s3_bucket
  s3_key            = var.auditor_s3_key
  s3_object_version = var.auditor_s3_object_version
  architecture      = var.architecture
  memory_size       = 256
  timeout           = var.auditor_timeout_seconds
  # One run at a time: a second concurrent run would only repeat alerts.
  reserved_concurrent_executions = 1

  # Names from internal/config.FunctionEnv["auditor"].
  environment = { for k, v in {
    SNS_TOPIC_ARN            = aws_sns_topic.alerts[0].arn
    METRICS_NAMESPACE        = var.metrics_namespace
    SECRETS_MANAGER_ENDPOINT = var.secrets_manager_endpoint
  } : k => v if v != null }

  policy                        = data.aws_iam_policy_document.auditor[0].json
  role_permissions_boundary_arn = var.role_permissions_boundary
  role_name                     = var.auditor_role_name
  role_name_prefix              = var.role_name_prefix
  log_level                     = var.log_level
  log_retention_days            = var.cloudwatch_logs_retention_in_days
  log_kms_key_arn               = var.log_kms_key_arn

  # Not retried: a retry would repeat every alert of the run, and the next
  # scheduled run retries anyway; failures show in its errors alarm.
  async_retries = 0
  schedule = {
    rule_name      = "${var.name}-audit"
    description    = "rotor: run the rotation auditor"
    expression     = var.audit_schedule_expression
    statement_id   = "EventBridgeAuditSchedule"
    source_account = local.account_id
  }

  errors_alarm = local.alarms_enabled ? {
    topic_arn    = aws_sns_topic.alerts[0].arn
    failure_note = ", so alerts may be missing"
  } : null

  tags = var.tags
}

# Existing deployments keep their resources: the old addresses are the
# function module's now, and since the create flag, its first instance.
moved {
  from = module.notifier
  to   = module.notifier[0]
}

moved {
  from = module.auditor
  to   = module.auditor[0]
}

moved {
  from = aws_sns_topic.alerts
  to   = aws_sns_topic.alerts[0]
}

moved {
  from = aws_sns_topic_policy.alerts
  to   = aws_sns_topic_policy.alerts[0]
}

moved {
  from = aws_lambda_function_event_invoke_config.notifier
  to   = aws_lambda_function_event_invoke_config.notifier[0]
}

moved {
  from = aws_lambda_function_event_invoke_config.auditor
  to   = aws_lambda_function_event_invoke_config.auditor[0]
}

moved {
  from = aws_cloudwatch_event_rule.rotation_failures
  to   = aws_cloudwatch_event_rule.rotation_failures[0]
}

moved {
  from = aws_cloudwatch_event_target.notifier
  to   = aws_cloudwatch_event_target.notifier[0]
}

moved {
  from = aws_lambda_permission.notifier_events
  to   = aws_lambda_permission.notifier_events[0]
}

moved {
  from = aws_cloudwatch_event_rule.audit
  to   = aws_cloudwatch_event_rule.audit[0]
}

moved {
  from = aws_cloudwatch_event_target.auditor
  to   = aws_cloudwatch_event_target.auditor[0]
}

moved {
  from = aws_lambda_permission.auditor_schedule
  to   = aws_lambda_permission.auditor_schedule[0]
}

moved {
  from = aws_cloudwatch_log_group.notifier
  to   = module.notifier[0].aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.notifier
  to   = module.notifier[0].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.notifier
  to   = module.notifier[0].aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.notifier
  to   = module.notifier[0].aws_lambda_function.this
}

moved {
  from = aws_cloudwatch_log_group.auditor
  to   = module.auditor[0].aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.auditor
  to   = module.auditor[0].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.auditor
  to   = module.auditor[0].aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.auditor
  to   = module.auditor[0].aws_lambda_function.this
}

# ---------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "rotation_failures" {
  count = var.create ? 1 : 0

  name          = "${var.name}-rotation-failures"
  description   = "rotor: Secrets Manager rotation failures and abandonments, to the notifier"
  event_pattern = jsonencode(local.rotation_failure_pattern)
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "notifier" {
  count = var.create ? 1 : 0

  rule      = aws_cloudwatch_event_rule.rotation_failures[0].name
  target_id = "notifier"
  arn       = module.notifier[0].function_arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }
}

resource "aws_cloudwatch_event_target" "raw" {
  count     = local.raw_delivery ? 1 : 0
  rule      = aws_cloudwatch_event_rule.rotation_failures[0].name
  target_id = "raw-events"
  arn       = aws_sns_topic.alerts[0].arn
}

resource "aws_lambda_permission" "notifier_events" {
  count = var.create ? 1 : 0

  statement_id   = "EventBridgeRotationFailures"
  action         = "lambda:InvokeFunction"
  function_name  = module.notifier[0].function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.rotation_failures[0].arn
  source_account = local.account_id
}

# The auditor's schedule, and both functions' retry settings, are the
# function module's (schedule, async_retries).
moved {
  from = aws_cloudwatch_event_rule.audit[0]
  to   = module.auditor[0].aws_cloudwatch_event_rule.schedule[0]
}

moved {
  from = aws_cloudwatch_event_target.auditor[0]
  to   = module.auditor[0].aws_cloudwatch_event_target.schedule[0]
}

moved {
  from = aws_lambda_permission.auditor_schedule[0]
  to   = module.auditor[0].aws_lambda_permission.schedule[0]
}

moved {
  from = aws_lambda_function_event_invoke_config.notifier[0]
  to   = module.notifier[0].aws_lambda_function_event_invoke_config.this[0]
}

moved {
  from = aws_lambda_function_event_invoke_config.auditor[0]
  to   = module.auditor[0].aws_lambda_function_event_invoke_config.this[0]
}

# ---------------------------------------------------------------------------
# Alarms (names start with var.name: the topic policy admits those only)
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "rotator_errors" {
  count = local.alarms_enabled && var.rotator_function_name != null ? 1 : 0

  alarm_name          = "${var.name}-rotator-errors"
  alarm_description   = "The rotator returned errors: a rotation step failed. The notifier's alert names the secret and step; run `rotor status <secret>`."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = var.rotator_function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.rotator_errors_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts[0].arn]
  ok_actions          = [aws_sns_topic.alerts[0].arn]
  tags                = var.tags
}

# A database login that sent its password unencrypted: someone set
# "ssl": false in a secret or DB_TLS=disable (rotor never falls back to
# plaintext on its own). The rotator's log line names the host and user.
resource "aws_cloudwatch_metric_alarm" "plaintext_logins" {
  count = local.alarms_enabled && var.rotator_function_name != null ? 1 : 0

  alarm_name          = "${var.name}-plaintext-logins"
  alarm_description   = "The rotator logged in to a database without TLS. Its log line \"database login without TLS\" names the host and user; enable TLS on the server and remove \"ssl\": false or DB_TLS=disable."
  namespace           = var.metrics_namespace
  metric_name         = "PlaintextLogins"
  dimensions          = { FunctionName = var.rotator_function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts[0].arn]
  ok_actions          = [aws_sns_topic.alerts[0].arn]
  tags                = var.tags
}

# The notifier's and the auditor's errors alarms are the function module's
# (errors_alarm).
moved {
  from = aws_cloudwatch_metric_alarm.function_errors["notifier"]
  to   = module.notifier[0].aws_cloudwatch_metric_alarm.errors[0]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["auditor"]
  to   = module.auditor[0].aws_cloudwatch_metric_alarm.errors[0]
}

# The auditor writes each metric once per run. "ignore" keeps an alarm in
# its state between runs, so it clears only when a run counts zero.
resource "aws_cloudwatch_metric_alarm" "findings" {
  for_each = local.alarms_enabled ? local.finding_metrics : {}

  alarm_name          = "${var.name}-${lower(each.key)}"
  alarm_description   = "The rotor auditor found ${each.value}. Each finding was also sent to this topic with what to do."
  namespace           = var.metrics_namespace
  metric_name         = each.key
  dimensions          = { FunctionName = module.auditor[0].function_name }
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "ignore"
  alarm_actions       = [aws_sns_topic.alerts[0].arn]
  ok_actions          = [aws_sns_topic.alerts[0].arn]
  tags                = var.tags
}

# ---------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------

# What operators look at: the rotator's per-step metrics (dimensions
# FunctionName, Step and Strategy, found by SEARCH so every strategy and
# step shows, including Strategy "unknown" for steps that failed before a
# strategy was known; one rotator's with rotator_function_name),
# rotation duration percentiles, the auditor's counts and the alerts
# published. A schema in braces matches metrics with exactly those
# dimensions, so the copies each metric also carries under Version are not
# counted twice. terraform/dashboard_test.go evaluates dashboard_body and
# checks every metric and dimension name against what the functions emit.
# Dashboard names are global to the account, hence the region in the name.
resource "aws_cloudwatch_dashboard" "this" {
  count = var.create && var.create_dashboard ? 1 : 0

  dashboard_name = "${var.name}-${local.region}"
  dashboard_body = jsonencode({
    widgets = concat([
      {
        type   = "metric"
        x      = 0
        y      = 0
        width  = 12
        height = 6
        properties = {
          title  = "Rotations finished per strategy (finishSecret runs and failures)"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 3600
          metrics = [
            [{ id = "runs", label = "${local.rotator_label}$${PROP('Dim.Strategy')} finishSecret runs", expression = "SEARCH('{\"${var.metrics_namespace}\",FunctionName,Step,Strategy} MetricName=\"StepDuration\" Step=\"finishSecret\"${local.rotator_search_filter}', 'SampleCount', 3600)" }],
            [{ id = "failed", label = "${local.rotator_label}$${PROP('Dim.Strategy')} finishSecret failures", expression = "SEARCH('{\"${var.metrics_namespace}\",FunctionName,Step,Strategy} MetricName=\"StepFailures\" Step=\"finishSecret\"${local.rotator_search_filter}', 'Sum', 3600)" }],
          ]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 0
        width  = 12
        height = 6
        properties = {
          title  = "Step failures per strategy and step"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 300
          metrics = [
            [{ id = "stepfailures", expression = "SEARCH('{\"${var.metrics_namespace}\",FunctionName,Step,Strategy} MetricName=\"StepFailures\"${local.rotator_search_filter}', 'Sum', 300)" }],
          ]
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 6
        width  = 12
        height = 6
        properties = {
          title  = "Rotation duration per strategy, p50 and p99 (ms)"
          region = local.region
          view   = "timeSeries"
          stat   = "p50"
          period = 3600
          metrics = [
            [{ id = "p50", label = "${local.rotator_label}$${PROP('Dim.Strategy')} p50", expression = "SEARCH('{\"${var.metrics_namespace}\",FunctionName,Strategy} MetricName=\"RotationDuration\"${local.rotator_search_filter}', 'p50', 3600)" }],
            [{ id = "p99", label = "${local.rotator_label}$${PROP('Dim.Strategy')} p99", expression = "SEARCH('{\"${var.metrics_namespace}\",FunctionName,Strategy} MetricName=\"RotationDuration\"${local.rotator_search_filter}', 'p99', 3600)" }],
          ]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 6
        width  = 12
        height = 6
        properties = {
          title  = "Step duration per strategy and step, p99 (ms)"
          region = local.region
          view   = "timeSeries"
          stat   = "p99"
          period = 300
          metrics = [
            [{ id = "stepp99", expression = "SEARCH('{\"${var.metrics_namespace}\",FunctionName,Step,Strategy} MetricName=\"StepDuration\"${local.rotator_search_filter}', 'p99', 300)" }],
          ]
        }
      },
      {
        # The auditor writes each count once per run: Maximum over a period
        # at least as long as the schedule shows the latest run's count.
        type   = "metric"
        x      = 0
        y      = 12
        width  = 12
        height = 6
        properties = {
          title  = "Auditor findings (overdue, stuck, failed, missing function)"
          region = local.region
          view   = "timeSeries"
          stat   = "Maximum"
          period = 3600
          metrics = [
            for m in ["OverdueSecrets", "StuckRotations", "FailedRotations", "MissingFunctions"] :
            [var.metrics_namespace, m, "FunctionName", module.auditor[0].function_name]
          ]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 12
        width  = 12
        height = 6
        properties = {
          title  = "Alerts published, secrets audited, audit errors"
          region = local.region
          view   = "timeSeries"
          period = 3600
          metrics = [
            ["AWS/SNS", "NumberOfMessagesPublished", "TopicName", aws_sns_topic.alerts[0].name, { stat = "Sum", label = "Alerts published" }],
            [var.metrics_namespace, "SecretsAudited", "FunctionName", module.auditor[0].function_name, { stat = "Maximum" }],
            [var.metrics_namespace, "AuditErrors", "FunctionName", module.auditor[0].function_name, { stat = "Maximum" }],
          ]
        }
      },
      ], var.rotator_function_name == null ? [] : [
      {
        type   = "metric"
        x      = 0
        y      = 18
        width  = 24
        height = 6
        properties = {
          title  = "Rotator database logins, and those without TLS"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 300
          metrics = [
            [var.metrics_namespace, "Logins", "FunctionName", var.rotator_function_name],
            [var.metrics_namespace, "PlaintextLogins", "FunctionName", var.rotator_function_name],
          ]
        }
      },
    ])
  })
}
