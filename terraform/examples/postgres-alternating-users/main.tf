provider "aws" {
  region = var.region

  # The rotator records each outcome in rotor:last-* tags on the secrets.
  ignore_tags {
    key_prefixes = ["rotor:last-"]
  }
}

locals {
  scope_tag = {
    key   = "rotor:rotator"
    value = var.name
  }
}

module "rotor" {
  source = "../../modules/rotator"

  name = var.name
  # The default for secrets without a rotor:strategy tag.
  rotation_strategy  = "alternating-users"
  rotated_secret_tag = local.scope_tag

  # ARN scoping as well as tag scoping: the admin secret may be read by the
  # rotator even if someone removes its scope tag.
  master_secret_arns = [module.admin_secret.secret_arn]
  kms_key_arns       = var.kms_key_arn != null ? [var.kms_key_arn] : []

  db_tls       = "verify-full"
  db_ca_bundle = var.db_ca_bundle
  layers       = var.layers

  enable_vpc                  = true
  vpc_id                      = var.vpc_id
  subnet_ids                  = var.subnet_ids
  database_ports              = [var.database_port]
  database_security_group_ids = [var.database_security_group_id]

  # Secrets Manager through a private endpoint; the rotator's security group
  # then needs no 443 egress to the internet. (RDS is not called here: the
  # admin secret is not RDS-managed.)
  create_secretsmanager_endpoint = true
  https_egress_cidr_blocks       = []
}

resource "aws_vpc_security_group_ingress_rule" "database_from_rotor" {
  security_group_id            = var.database_security_group_id
  description                  = "PostgreSQL from the rotor rotator"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = module.rotor.security_group_id
}

# The admin secret: masterarn of the application secret. It is rotated too,
# with the single-user strategy, on its own day.
module "admin_secret" {
  source = "../../modules/rotated-secret"

  name       = "${var.name}/postgres/admin"
  kms_key_id = var.kms_key_arn
  engine     = "postgres"
  host       = var.database_host
  port       = var.database_port
  dbname     = var.database_name
  username   = var.admin_username
  # Write-only: the password reaches Secrets Manager, never the state.
  password_wo = var.admin_password

  rotation_strategy   = "single-user"
  scope_tag           = local.scope_tag
  rotation_lambda_arn = module.rotor.rotator_function_arn
  rotation_rules = {
    schedule_expression = var.admin_rotation_schedule
    duration            = "2h"
  }
  # Rotated by the rotatenow invocation below, after the application secret.
  rotate_immediately = false
}

module "app_secret" {
  source = "../../modules/rotated-secret"

  name              = "${var.name}/postgres/app"
  kms_key_id        = var.kms_key_arn
  engine            = "postgres"
  host              = var.database_host
  port              = var.database_port
  dbname            = var.database_name
  username          = var.app_username
  password_wo       = var.app_password
  master_secret_arn = module.admin_secret.secret_arn
  # The base user is pinned at the first rotation; only the rotator (which
  # writes the pin) and the platform team may change it (docs/security.md).
  pin_writer_arns = concat([module.rotor.rotator_role_arn], var.pin_admin_arns)

  rotation_strategy   = "alternating-users"
  scope_tag           = local.scope_tag
  rotation_lambda_arn = module.rotor.rotator_function_arn
  rotation_rules = {
    schedule_expression = var.app_rotation_schedule
    duration            = "2h"
  }
  # The first rotation is run by rotatenow below, which waits for it.
  rotate_immediately = false

  depends_on = [aws_vpc_security_group_ingress_rule.database_from_rotor]
}

# First rotation, synchronously: rotatenow calls RotateSecret, follows the
# rotation to its end and returns an error when it fails, which fails this
# apply. It runs once, when the resource is created (or the secret replaced).
resource "aws_lambda_invocation" "rotate_app_now" {
  function_name = module.rotor.rotatenow_function_name

  input = jsonencode({
    secretIds      = [module.app_secret.secret_arn]
    wait           = true
    timeoutSeconds = 600
  })

  triggers = {
    secret_arn = module.app_secret.secret_arn
  }
}

# Then the admin's own password, which the application rotation above used
# (one after the other: never both at once).
resource "aws_lambda_invocation" "rotate_admin_now" {
  function_name = module.rotor.rotatenow_function_name

  input = jsonencode({
    secretIds      = [module.admin_secret.secret_arn]
    wait           = true
    timeoutSeconds = 600
  })

  triggers = {
    secret_arn = module.admin_secret.secret_arn
  }

  depends_on = [aws_lambda_invocation.rotate_app_now]
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
