provider "aws" {
  region = var.region

  # The rotator records each outcome in rotor:last-* tags on the secret;
  # they are not Terraform's to remove.
  ignore_tags {
    key_prefixes = ["rotor:last-"]
  }
}

module "rotor" {
  source = "../../modules/rotator"

  name              = var.name
  rotation_strategy = "single-user"

  # Tag scoping: the functions may act on any secret tagged
  # rotor:rotator=<name>, and on nothing else.
  rotated_secret_tag = {
    key   = "rotor:rotator"
    value = var.name
  }

  db_tls       = "verify-full"
  db_ca_bundle = var.db_ca_bundle
  layers       = var.layers

  enable_vpc                  = true
  vpc_id                      = var.vpc_id
  subnet_ids                  = var.subnet_ids
  database_ports              = [var.database_port]
  database_security_group_ids = [var.database_security_group_id]
}

# Admit the rotator to the database.
resource "aws_vpc_security_group_ingress_rule" "database_from_rotor" {
  security_group_id            = var.database_security_group_id
  description                  = "PostgreSQL from the rotor rotator"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = module.rotor.security_group_id
}

module "app_secret" {
  source = "../../modules/rotated-secret"

  name     = var.secret_name
  engine   = "postgres"
  host     = var.database_host
  port     = var.database_port
  dbname   = var.database_name
  username = var.username
  # Write-only: the password reaches Secrets Manager, never the plan or
  # the state.
  password_wo = var.password

  scope_tag           = module.rotor.secret_scope_tag
  rotation_lambda_arn = module.rotor.rotator_function_arn

  rotation_rules = {
    automatically_after_days = 30
    duration                 = "4h"
  }
  # The first rotation starts as soon as rotation is configured, so the
  # password given on the command line stops working within minutes. It runs
  # asynchronously: check rotor:last-rotation on the secret, or see
  # postgres-alternating-users for an apply that waits for the result.
  rotate_immediately = true

  # The rotation needs the network path to the database.
  depends_on = [aws_vpc_security_group_ingress_rule.database_from_rotor]
}

# Rotation failures and audit findings, by e-mail (docs/alerting.md).
module "alerts" {
  source = "../../modules/alerts"

  name                  = var.name
  email_subscriptions   = var.alert_emails
  rotator_function_name = module.rotor.rotator_function_name
  # The rotator's scope: the functions may describe and tag these secrets
  # only.
  rotated_secret_tag = module.rotor.secret_scope_tag
  # Alarms on rotator, notifier and auditor errors and on every audit
  # finding. The module encrypts the topic with its own customer managed
  # key, which CloudWatch and EventBridge may use (modules/alerts/README.md).
  create_alarms = true
}
