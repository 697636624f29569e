# Upgrading keeps the network: the rotator's security group and its egress
# rules, once this module's own resources, are module.rotator_egress's now,
# and the moved blocks in main.tf must carry them over. With a mock
# provider (nothing reaches AWS, every ID is made up at creation) the old
# addresses are applied first, then this module is planned on the same
# state: an ID that is not the old one would be destroyed and created again.

mock_provider "aws" {
  # Made-up strings are no policy: the roles and policies must still parse.
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

variables {
  # Any existing file stands in for the packages.
  rotator_zip_path            = "tests/plan.tftest.hcl"
  rotatenow_zip_path          = "tests/plan.tftest.hcl"
  rotated_secret_arns         = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf"]
  enable_vpc                  = true
  vpc_id                      = "vpc-1"
  subnet_ids                  = ["subnet-1"]
  database_ports              = [5432, 6432]
  database_security_group_ids = ["sg-1"]
  database_cidr_blocks        = ["10.0.0.0/16"]
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
    condition     = module.rotator_egress[0].security_group_id == run.before.security_group
    error_message = "The rotator's security group was replaced: a moved block is missing or wrong."
  }

  assert {
    condition     = { for kind, rules in module.rotator_egress[0].egress_rules : kind => [for r in rules : r.id] } == run.before.rules
    error_message = "An egress rule of the rotator was replaced: a moved block is missing or wrong."
  }
}
