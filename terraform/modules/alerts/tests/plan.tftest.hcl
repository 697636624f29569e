# Plan-only tests with fake credentials: nothing reaches AWS. Run by
# `go test ./terraform/...` when a local provider mirror exists, or by hand:
# terraform init && terraform test.

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "AKIAIOSFODNN7EXAMPLE"
  secret_key                  = "not-a-real-key"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

variables {
  # Any existing file stands in for the packages.
  notifier_zip_path = "tests/plan.tftest.hcl"
  auditor_zip_path  = "tests/plan.tftest.hcl"
  rotated_secret_tag = {
    key   = "rotor:rotator"
    value = "rotor"
  }
}

run "defaults_create_a_key_and_alarms" {
  command = plan

  variables {
    rotator_function_name = "rotor-rotator"
  }

  assert {
    condition     = length(aws_kms_key.alerts) == 1 && aws_kms_key.alerts[0].enable_key_rotation
    error_message = "Without kms_key_arn the module creates its own customer managed key, with rotation on."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.findings) == 4 && module.notifier[0].errors_alarm_name == "rotor-notifier-errors" && module.auditor[0].errors_alarm_name == "rotor-auditor-errors" && length(aws_cloudwatch_metric_alarm.rotator_errors) == 1
    error_message = "Alarms are on by default: one per finding metric, notifier and auditor errors, rotator errors."
  }

  assert {
    condition     = contains(jsondecode(data.aws_iam_policy_document.topic_key[0].json)["Statement"][1]["Principal"]["Service"], "cloudwatch.amazonaws.com") && contains(jsondecode(data.aws_iam_policy_document.topic_key[0].json)["Statement"][1]["Principal"]["Service"], "events.amazonaws.com")
    error_message = "The key policy admits CloudWatch and EventBridge."
  }

  assert {
    condition     = module.auditor[0].log_format == "JSON" && module.notifier[0].log_format == "JSON"
    error_message = "Both functions write JSON logs."
  }

  assert {
    condition     = module.auditor[0].log_retention_days == 90 && module.notifier[0].log_group_name == "/aws/lambda/rotor-notifier"
    error_message = "Log groups are the functions' own, with retention."
  }

  assert {
    condition     = module.auditor[0].schedule.schedule_expression == "rate(1 day)" && module.auditor[0].async_invoke_config.maximum_retry_attempts == 0 && module.notifier[0].async_invoke_config.maximum_retry_attempts == 2
    error_message = "The auditor runs daily and is not retried (a retry repeats every alert)."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.rotation_failures[0].event_pattern)["detail"]["eventName"] == ["RotationFailed", "RotationAbandoned", "TestRotationFailed"]
    error_message = "The rule forwards failures and abandonments."
  }

  assert {
    condition     = length(aws_cloudwatch_event_target.raw) == 0
    error_message = "Raw delivery is off by default."
  }
}

run "no_customer_managed_key_means_no_alarms" {
  command = plan

  variables {
    create_kms_key = false
  }

  # The check block warns that alarms need a customer managed key.
  expect_failures = [check.alarms_need_a_customer_managed_key]

  assert {
    condition     = aws_sns_topic.alerts[0].kms_master_key_id == "alias/aws/sns" && length(aws_kms_key.alerts) == 0
    error_message = "create_kms_key = false without kms_key_arn falls back to alias/aws/sns."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.findings) == 0 && module.notifier[0].errors_alarm_name == null && module.auditor[0].errors_alarm_name == null && length(aws_cloudwatch_metric_alarm.rotator_errors) == 0
    error_message = "CloudWatch cannot publish to an aws/sns topic: no alarm without a customer managed key."
  }
}

run "own_customer_managed_key_enables_alarms" {
  command = plan

  variables {
    kms_key_arn               = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    rotator_function_name     = "rotor-rotator"
    enable_raw_event_delivery = true
    email_subscriptions       = ["ops@example.com"]
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.findings) == 4 && module.notifier[0].errors_alarm_name == "rotor-notifier-errors" && module.auditor[0].errors_alarm_name == "rotor-auditor-errors" && length(aws_cloudwatch_metric_alarm.rotator_errors) == 1
    error_message = "With a customer managed key: one alarm per finding metric, notifier and auditor errors, rotator errors."
  }

  assert {
    condition     = length(aws_kms_key.alerts) == 0 && aws_sns_topic.alerts[0].kms_master_key_id == "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "A given key is used; the module creates none."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.rotator_errors[0].dimensions["FunctionName"] == "rotor-rotator" && aws_cloudwatch_metric_alarm.findings["StuckRotations"].dimensions["FunctionName"] == "rotor-auditor"
    error_message = "Alarms watch the rotator by name and the auditor's metrics by its FunctionName dimension."
  }

  assert {
    condition     = length(aws_cloudwatch_event_target.raw) == 1 && length(aws_sns_topic_subscription.email) == 1
    error_message = "Raw delivery and e-mail subscriptions are created when asked for."
  }
}

run "bad_key_is_refused" {
  command = plan

  variables {
    kms_key_arn = "alias/my-key"
  }

  expect_failures = [var.kms_key_arn]
}

run "no_secret_scope_is_refused" {
  command = plan

  variables {
    rotated_secret_tag = null
  }

  expect_failures = [data.aws_iam_policy_document.notifier[0]]
}

run "wildcard_secret_arn_is_refused" {
  command = plan

  variables {
    rotated_secret_arns = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:*"]
  }

  expect_failures = [var.rotated_secret_arns]
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create                    = false
    rotated_secret_tag        = null
    rotator_function_name     = "rotor-rotator"
    enable_raw_event_delivery = true
    email_subscriptions       = ["ops@example.com"]
  }

  assert {
    condition = alltrue([
      length(aws_sns_topic.alerts) == 0, length(aws_kms_key.alerts) == 0, length(module.notifier) == 0, length(module.auditor) == 0,
      length(aws_cloudwatch_event_rule.rotation_failures) == 0, length(aws_cloudwatch_event_target.raw) == 0,
      length(aws_sns_topic_subscription.email) == 0, length(aws_cloudwatch_metric_alarm.rotator_errors) == 0, length(aws_cloudwatch_metric_alarm.plaintext_logins) == 0,
      length(aws_cloudwatch_metric_alarm.findings) == 0, length(aws_cloudwatch_dashboard.this) == 0,
    ])
    error_message = "create = false must plan nothing: no key, topic, function, rule, subscription, alarm or dashboard."
  }

  assert {
    condition     = output.topic_arn == null && output.kms_key_arn == null && output.auditor_function_name == null && length(output.alarm_arns) == 0 && length(output.log_group_names) == 0 && output.dashboard_name == null
    error_message = "create = false: every output is null or empty."
  }
}
