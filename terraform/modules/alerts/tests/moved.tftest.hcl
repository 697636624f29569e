# Upgrading keeps the alarms and the schedule: the notifier's and the
# auditor's errors alarms, the auditor's schedule (rule, target, permission)
# and both event invoke configs, once this module's own resources, are the
# function module's now,
# and the moved blocks in main.tf must carry them over. With a mock provider
# (nothing reaches AWS, every ID is made up at creation) the old addresses
# are applied first, then this module is planned on the same state: an ARN
# that is not the old one would be destroyed and created again.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  # The schedule's permission checks that its source is an ARN. (A rule to
  # be created again would still have an unknown ARN in the plan.)
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/rotor-audit" }
  }
  # Made-up strings are no policy: the roles and policies must still parse.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

variables {
  # Any existing file stands in for the packages.
  notifier_zip_path   = "tests/plan.tftest.hcl"
  auditor_zip_path    = "tests/plan.tftest.hcl"
  rotated_secret_arns = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf"]
}

run "before" {
  state_key = "upgrade"
  module {
    source = "./tests/moved-from"
  }
}

# A plan is enough: moved blocks act in it, and the ARN of an alarm to be
# created again would be unknown, so the assertion cannot pass.
run "after" {
  command   = plan
  state_key = "upgrade"

  assert {
    condition     = module.notifier[0].errors_alarm_arn == run.before.alarms.notifier && module.auditor[0].errors_alarm_arn == run.before.alarms.auditor
    error_message = "An errors alarm was replaced: a moved block is missing or wrong."
  }

  assert {
    condition     = { for k, v in module.auditor[0].schedule : k => v if k != "schedule_expression" } == run.before.schedule
    error_message = "The auditor's schedule rule, target or permission was replaced: a moved block is missing or wrong."
  }

  assert {
    condition     = module.notifier[0].async_invoke_config.id == run.before.invoke_configs.notifier && module.auditor[0].async_invoke_config.id == run.before.invoke_configs.auditor
    error_message = "An event invoke config was replaced: a moved block is missing or wrong."
  }
}
