# Plan-only tests with fake credentials: nothing reaches AWS. Run by
# `go test ./terraform/...` when a local provider mirror exists (see
# terraform/README.md), or by hand: terraform init && terraform test. The
# refusals mirror internal/lease.ParseDefinitions.

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
  issuer_zip_path = "tests/plan.tftest.hcl"
  reaper_zip_path = "tests/plan.tftest.hcl"
  roles = [
    { name = "app_ro", admin_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-admin-AbCdEf", group_role = "app_readers", default_ttl_seconds = 3600, max_ttl_seconds = 86400, engine = "postgres" },
    { name = "app_rw", admin_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-admin-AbCdEf", group_role = "app_writers", default_ttl_seconds = 600, max_ttl_seconds = 3600, engine = "postgres" },
    { name = "reports", admin_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:my-admin-AbCdEf", group_role = "reporting", default_ttl_seconds = 900, max_ttl_seconds = 900, engine = "mysql" },
  ]
}

run "role_definitions_reach_both_functions" {
  command = plan

  variables {
    enable_vpc                  = true
    vpc_id                      = "vpc-1"
    subnet_ids                  = ["subnet-1"]
    database_ports              = [5432, 3306]
    database_security_group_ids = ["sg-1"]
    alarm_topic_arn             = "arn:aws:sns:eu-west-1:123456789012:rotor-alerts"
  }

  assert {
    condition     = module.issuer[0].errors_alarm_name == "rotor-issuer-errors" && module.reaper[0].errors_alarm_name == "rotor-reaper-errors" && length(aws_cloudwatch_metric_alarm.reap_failures) == 1
    error_message = "With alarm_topic_arn each function gets its errors alarm, and the reaper its reap-failures alarm."
  }

  assert {
    condition = jsondecode(module.issuer[0].environment_variables["LEASE_ROLES"])[2] == {
      name      = "reports", adminSecretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:my-admin-AbCdEf",
      groupRole = "reporting", defaultTtlSeconds = 900, maxTtlSeconds = 900, engine = "mysql"
    }
    error_message = "LEASE_ROLES must carry each definition in its wire names (docs/leases.md)."
  }

  assert {
    condition     = module.issuer[0].environment_variables["ADMIN_SECRET_ARNS"] == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-admin-AbCdEf,arn:aws:secretsmanager:eu-west-1:123456789012:secret:my-admin-AbCdEf"
    error_message = "ADMIN_SECRET_ARNS must list each admin secret once."
  }

  # The caller's statements, then the function module's own for a function
  # in a VPC, in the one inline policy: the policy the roles had when the
  # leases module wrote the VPC statement itself.
  assert {
    condition     = [for st in jsondecode(module.issuer[0].policy_json).Statement : st.Sid] == ["ReadAdminSecrets", "ManageVpcNetworkInterfaces"] && module.reaper[0].policy_json == module.issuer[0].policy_json
    error_message = "In a VPC each role's inline policy must hold the admin-secret read and then ManageVpcNetworkInterfaces."
  }

  assert {
    condition     = module.reaper[0].environment_variables == module.issuer[0].environment_variables
    error_message = "The reaper must read the same definitions as the issuer."
  }

  assert {
    condition     = [for r in module.egress[0].egress_rules.database_sg : [r.port, r.to]] == [[5432, "sg-1"], [3306, "sg-1"]] && length(module.egress[0].egress_rules.https) == 1 && module.reaper[0].schedule.schedule_expression == "rate(5 minutes)" && module.reaper[0].async_invoke_config.maximum_retry_attempts == 0 && module.issuer[0].schedule == null
    error_message = "One egress rule per (port, security group) and 443 to 0.0.0.0/0 by default; the reaper runs every five minutes by default."
  }
}

run "bad_name_is_refused" {
  command = plan
  variables {
    roles = [{ name = "App-RO", admin_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-AbCdEf", group_role = "g", default_ttl_seconds = 60, max_ttl_seconds = 60, engine = "postgres" }]
  }
  expect_failures = [var.roles]
}

run "default_over_max_is_refused" {
  command = plan
  variables {
    roles = [{ name = "app", admin_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-AbCdEf", group_role = "g", default_ttl_seconds = 7200, max_ttl_seconds = 3600, engine = "postgres" }]
  }
  expect_failures = [var.roles]
}

run "long_mysql_name_is_refused" {
  command = plan
  variables {
    roles = [{ name = "reporting1", admin_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-AbCdEf", group_role = "g", default_ttl_seconds = 60, max_ttl_seconds = 60, engine = "mysql" }]
  }
  expect_failures = [var.roles]
}

run "outside_a_vpc_no_network_interface_actions" {
  command = plan

  assert {
    condition     = module.issuer[0].errors_alarm_name == null && length(aws_cloudwatch_metric_alarm.reap_failures) == 0
    error_message = "Without alarm_topic_arn there is no alarm."
  }

  assert {
    condition     = [for st in jsondecode(module.issuer[0].policy_json).Statement : st.Sid] == ["ReadAdminSecrets"]
    error_message = "Outside a VPC the role's inline policy must not grant the network-interface actions."
  }
}
