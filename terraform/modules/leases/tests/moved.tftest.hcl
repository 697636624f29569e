# Upgrading keeps the network, the alarms and the schedule: the functions'
# security group and its egress rules, once this module's own resources,
# are module.egress's now, and their errors alarms, the reaper's schedule
# and its event invoke config the function module's; the moved blocks in
# main.tf must carry them over. With a mock provider
# (nothing reaches AWS, every ID is made up at creation) the old addresses
# are applied first, then this module is planned on the same state: an ID
# that is not the old one would be destroyed and created again.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  # The schedule's permission checks that its source is an ARN. (A rule to
  # be created again would still have an unknown ARN in the plan.)
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/rotor-reap-leases" }
  }
  # Made-up strings are no policy: the roles and policies must still parse.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

variables {
  # Any existing file stands in for the packages.
  issuer_zip_path = "tests/plan.tftest.hcl"
  reaper_zip_path = "tests/plan.tftest.hcl"
  roles = [
    { name = "app_ro", admin_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-admin-AbCdEf", group_role = "app_readers", default_ttl_seconds = 3600, max_ttl_seconds = 86400, engine = "postgres" },
  ]
  enable_vpc                  = true
  vpc_id                      = "vpc-1"
  subnet_ids                  = ["subnet-1"]
  database_ports              = [5432, 3306]
  database_security_group_ids = ["sg-1"]
  database_cidr_blocks        = ["10.0.0.0/16"]
  alarm_topic_arn             = "arn:aws:sns:eu-west-1:123456789012:rotor-alerts"
}

run "before" {
  state_key = "upgrade"
  module {
    source = "./tests/moved-from"
  }
}

# A plan is enough: moved blocks act in it, and the ID of a resource to be
# created again would be unknown, so the assertions cannot pass.
run "after" {
  command   = plan
  state_key = "upgrade"

  assert {
    condition     = module.egress[0].security_group_id == run.before.security_group
    error_message = "The functions' security group was replaced: a moved block is missing or wrong."
  }

  assert {
    condition     = { for kind, rules in module.egress[0].egress_rules : kind => [for r in rules : r.id] } == run.before.rules
    error_message = "An egress rule of the functions was replaced: a moved block is missing or wrong."
  }

  assert {
    condition     = module.issuer[0].errors_alarm_arn == run.before.alarms.issuer && module.reaper[0].errors_alarm_arn == run.before.alarms.reaper
    error_message = "An errors alarm was replaced: a moved block is missing or wrong."
  }

  assert {
    condition     = { for k, v in module.reaper[0].schedule : k => v if k != "schedule_expression" } == run.before.schedule && module.reaper[0].async_invoke_config.id == run.before.invoke_configs.reaper
    error_message = "The reaper's schedule rule, target, permission or event invoke config was replaced: a moved block is missing or wrong."
  }
}
