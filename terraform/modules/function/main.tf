# One rotor Lambda function with what every one of them needs: its log group,
# its role (trusted by Lambda only), the right to write to its own log group,
# and the inline policy for its purpose. That purpose policy is written by the
# calling module, next to what the function does, and passed in as JSON; what
# every function needs alike lives here, once: the trust policy, writing to
# its own log group, the network-interface actions of a function in a VPC,
# the default role name and the choice between a local zip and S3.

data "aws_region" "current" {}

locals {
  from_s3 = var.s3_bucket != null || var.s3_key != null

  # IAM role names are global to the account, the functions regional: the
  # default name carries the region (`id` is its name in provider 5.x and
  # 6.x alike), so one name deploys in several regions of an account.
  # null when only role_name_prefix is given: IAM's name_prefix names it.
  role_name = var.role_name != null ? var.role_name : (
    var.role_name_prefix == null ? substr("${var.name}-${data.aws_region.current.id}", 0, 64) : null
  )
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

# Inline policy only: no AWS managed policy (AWSLambdaBasicExecutionRole and
# AWSLambdaVPCAccessExecutionRole grant logs:* on every log group).
data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "LambdaAssumesRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

# The caller's policy, and for a function in a VPC the network-interface
# actions, in the one inline policy rotor-<function>. Lambda creates and
# deletes the function's network interfaces with the execution role.
# Resource "*" is required: the Describe* calls have no resource-level
# permissions, and Lambda checks the role for these actions on "*" when the
# function is created, so scoping them to subnet or security group ARNs
# makes CreateFunction fail. These actions reach no secret or key. Written
# out instead of AWSLambdaVPCAccessExecutionRole, which adds logs:* on "*".
data "aws_iam_policy_document" "this" {
  source_policy_documents = [var.policy]

  dynamic "statement" {
    for_each = var.vpc_config != null ? [1] : []
    content {
      sid = "ManageVpcNetworkInterfaces"
      actions = [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  name_prefix          = local.role_name == null ? "${var.role_name_prefix}${var.function}-" : null
  description          = var.role_description
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.role_permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "rotor-${var.function}"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_iam_role_policy" "logs" {
  name   = "rotor-${var.function}-logs"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.logs.json
}

resource "aws_lambda_function" "this" {
  function_name = var.name
  description   = var.description
  role          = aws_iam_role.this.arn

  # Either a local zip or a released artifact in S3 (rotor's release zips).
  filename = local.from_s3 ? null : var.zip_path
  # null when the zip is missing, so the precondition below reports it
  # instead of a bare file-function error. For S3, a new object version
  # (s3_object_version) or key is what redeploys the code.
  source_code_hash  = !local.from_s3 && fileexists(coalesce(var.zip_path, "-")) ? filebase64sha256(var.zip_path) : null
  s3_bucket         = local.from_s3 ? var.s3_bucket : null
  s3_key            = local.from_s3 ? var.s3_key : null
  s3_object_version = local.from_s3 ? var.s3_object_version : null
  runtime           = "provided.al2023"
  handler           = "bootstrap"
  architectures     = [var.architecture]
  layers            = var.layers

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    # Checked against internal/config.FunctionEnv[var.function] where this
    # module is called (go test ./terraform/...).
    variables = var.environment
  }

  # Lambda's advanced logging controls: Lambda sets AWS_LAMBDA_LOG_FORMAT and
  # AWS_LAMBDA_LOG_LEVEL from these, the functions read both, and Lambda
  # drops JSON lines below application_log_level.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = upper(var.log_level)
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config != null ? [var.vpc_config] : []
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  tags = var.tags

  # Lambda checks the ENI permissions at creation, so the policy goes first.
  depends_on = [aws_iam_role_policy.this, aws_iam_role_policy.logs]

  lifecycle {
    precondition {
      condition     = local.from_s3 || fileexists(coalesce(var.zip_path, "-"))
      error_message = "The ${var.function} package ${coalesce(var.zip_path, "(none)")} does not exist: run `make build` at the repository root, set ${var.function}_zip_path, or deploy a released artifact from S3 (s3_bucket and ${var.function}_s3_key)."
    }
    precondition {
      condition     = !local.from_s3 || (var.s3_bucket != null && var.s3_key != null)
      error_message = "The ${var.function} package from S3 needs both s3_bucket and ${var.function}_s3_key."
    }
    precondition {
      condition     = alltrue([for p in var.preconditions : p.condition])
      error_message = join(" ", [for p in var.preconditions : p.error_message if !p.condition])
    }
  }
}

# The alarm every rotor function gets alike when its caller has a topic:
# any failed invocation in five minutes. Named after the function, so it
# starts with the calling module's name (the alerts topic admits only
# those alarms).
resource "aws_cloudwatch_metric_alarm" "errors" {
  count = var.errors_alarm != null ? 1 : 0

  alarm_name          = "${var.name}-errors"
  alarm_description   = "The rotor ${var.function} failed${var.errors_alarm.failure_note}: read its log group /aws/lambda/${var.name}."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.errors_alarm.topic_arn]
  ok_actions          = [var.errors_alarm.topic_arn]
  tags                = var.tags
}

# What every scheduled rotor function gets alike: an EventBridge rule that
# invokes it, and the permission for that rule only, from this account only.
resource "aws_cloudwatch_event_rule" "schedule" {
  count = var.schedule != null ? 1 : 0

  name                = var.schedule.rule_name
  description         = var.schedule.description
  schedule_expression = var.schedule.expression
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "schedule" {
  count = var.schedule != null ? 1 : 0

  rule      = aws_cloudwatch_event_rule.schedule[0].name
  target_id = var.function
  arn       = aws_lambda_function.this.arn
}

resource "aws_lambda_permission" "schedule" {
  count = var.schedule != null ? 1 : 0

  statement_id   = var.schedule.statement_id
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.schedule[0].arn
  source_account = var.schedule.source_account
}

# Lambda's handling of a failed asynchronous invocation: how often it
# retries, and events older than an hour dropped.
resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.async_retries != null ? 1 : 0

  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.async_retries
  maximum_event_age_in_seconds = 3600
}
