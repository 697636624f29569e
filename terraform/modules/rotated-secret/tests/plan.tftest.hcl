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

variables {
  name                = "app/postgres"
  engine              = "postgres"
  host                = "db.example.com"
  username            = "app"
  password_wo         = "initial-password-1"
  rotation_lambda_arn = "arn:aws:lambda:eu-west-1:123456789012:function:rotor-rotator"
}

run "window_fits_a_daily_cron" {
  command = plan

  variables {
    rotation_rules = { schedule_expression = "cron(0 20 ? * SUN *)", duration = "4h" }
  }

  assert {
    condition     = length(aws_secretsmanager_secret_rotation.this) == 1 && aws_secretsmanager_secret_version.initial[0].version_stages == toset(["AWSCURRENT"])
    error_message = "A fitting window plans the rotation; the initial version carries no permanent label by default."
  }
}

run "window_past_the_end_of_the_day" {
  command = plan

  variables {
    rotation_rules = { schedule_expression = "cron(0 22 ? * SUN *)", duration = "4h" }
  }

  expect_failures = [aws_secretsmanager_secret_rotation.this]
}

run "window_longer_than_the_rate" {
  command = plan

  variables {
    rotation_rules = { schedule_expression = "rate(6 hours)", duration = "8h" }
  }

  expect_failures = [aws_secretsmanager_secret_rotation.this]
}

run "window_fits_every_six_hours" {
  command = plan

  variables {
    rotation_rules = { schedule_expression = "cron(0 */6 * * ? *)", duration = "6h" }
  }
}

run "window_reaches_the_next_cron_hour" {
  command = plan

  variables {
    rotation_rules = { schedule_expression = "cron(0 2,6 * * ? *)", duration = "5h" }
  }

  expect_failures = [aws_secretsmanager_secret_rotation.this]
}

run "both_schedules" {
  command = plan

  variables {
    rotation_rules = { schedule_expression = "rate(7 days)", automatically_after_days = 7 }
  }

  expect_failures = [var.rotation_rules]
}

run "permanent_label_on_request" {
  command = plan

  variables {
    rotation_rules        = { automatically_after_days = 30 }
    initial_version_label = "rotor-initial"
  }

  assert {
    condition     = aws_secretsmanager_secret_version.initial[0].version_stages == toset(["AWSCURRENT", "rotor-initial"])
    error_message = "initial_version_label adds the permanent label."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create         = false
    rotation_rules = { automatically_after_days = 30 }
  }

  assert {
    condition     = length(aws_secretsmanager_secret.this) == 0 && length(aws_secretsmanager_secret_version.initial) == 0 && length(aws_secretsmanager_secret_rotation.this) == 0
    error_message = "create = false must plan no resource."
  }
}
