# Plan-only tests with fake credentials: nothing reaches AWS. (IAM policy
# documents are read at apply time once they depend on new resources, so the
# policies are checked statically by the Go tests instead.) Run by
# `go test ./terraform/...` when a local provider mirror exists (see
# terraform/README.md), or by hand: terraform init && terraform test.

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
  rotator_zip_path   = "tests/plan.tftest.hcl"
  rotatenow_zip_path = "tests/plan.tftest.hcl"
}

run "tag_scope_in_vpc" {
  command = plan

  variables {
    rotated_secret_tag                          = { key = "rotor:rotator", value = "rotor" }
    master_secret_arns                          = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin-AbCdEf"]
    kms_key_arns                                = ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
    enable_vpc                                  = true
    vpc_id                                      = "vpc-1"
    subnet_ids                                  = ["subnet-1", "subnet-2"]
    database_ports                              = [5432, 6432]
    database_security_group_ids                 = ["sg-1", "sg-2", "sg-3"]
    create_secretsmanager_endpoint              = true
    secretsmanager_endpoint_private_dns_enabled = true
    https_egress_cidr_blocks                    = []
  }

  assert {
    condition     = length(module.rotator_egress[0].egress_rules.database_sg) == 6 && module.rotator_egress[0].egress_rules.database_sg[5].port == 6432 && module.rotator_egress[0].egress_rules.database_sg[5].to == "sg-3"
    error_message = "Every (port, security group) pair needs one egress rule."
  }

  assert {
    condition     = length(module.rotator_egress[0].egress_rules.https) == 0 && length(aws_vpc_security_group_egress_rule.rotator_https_endpoint) == 1
    error_message = "With https_egress_cidr_blocks = [] the only 443 egress is to the endpoint."
  }

  assert {
    condition     = lookup(module.rotator[0].environment_variables, "SECRETS_MANAGER_ENDPOINT", null) == null && module.rotator[0].environment_variables["DB_TLS"] == "verify-full"
    error_message = "With private DNS the rotator needs no endpoint override; DB_TLS defaults to verify-full."
  }
}

run "arn_scope_outside_vpc" {
  command = plan

  variables {
    rotated_secret_arns = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf"]
  }

  assert {
    condition     = length(module.rotator_egress) == 0 && length(aws_vpc_endpoint.secretsmanager) == 0
    error_message = "No network resources outside a VPC."
  }
}

run "no_scope_is_refused" {
  command = plan

  expect_failures = [data.aws_iam_policy_document.rotator]
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create              = false
    rotated_secret_arns = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf"]
  }

  assert {
    condition     = length(module.rotator) == 0 && length(module.rotatenow) == 0 && length(aws_lambda_permission.secretsmanager) == 0 && output.rotator_function_arn == null && length(output.functions) == 0
    error_message = "create = false must plan no function, permission or output."
  }
}
