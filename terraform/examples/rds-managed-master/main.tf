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
  ca_bundle_path = "/opt/rds-global-bundle.pem"
}

# ---------------------------------------------------------------------------
# The database, with an RDS-managed master secret
# ---------------------------------------------------------------------------

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "database" {
  name_prefix = "${var.name}-db-"
  description = "PostgreSQL, reachable from the rotor rotator"
  vpc_id      = var.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "database_from_rotor" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the rotor rotator"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = module.rotor.security_group_id
}

resource "aws_db_instance" "this" {
  identifier     = var.name
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  allocated_storage = 20
  storage_encrypted = true

  db_name  = "postgres"
  username = "rotor_admin"
  # RDS keeps the master password in a secret it creates and rotates itself;
  # rotor reads it as the admin of the alternating-users strategy.
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.master_user_secret_kms_key_id

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  backup_retention_period   = 7
  deletion_protection       = var.deletion_protection
  final_snapshot_identifier = "${var.name}-final"
}

# ---------------------------------------------------------------------------
# rotor
# ---------------------------------------------------------------------------

resource "aws_lambda_layer_version" "rds_ca_bundle" {
  count = var.rds_ca_bundle_layer_zip != null ? 1 : 0

  layer_name               = "${var.name}-rds-ca-bundle"
  description              = "RDS CA bundle for rotor's verify-full TLS"
  filename                 = var.rds_ca_bundle_layer_zip
  source_code_hash         = filebase64sha256(var.rds_ca_bundle_layer_zip)
  compatible_architectures = ["arm64"]
  compatible_runtimes      = ["provided.al2023"]
}

module "rotor" {
  source = "../../modules/rotator"

  name               = var.name
  rotation_strategy  = "alternating-users"
  rotated_secret_tag = local.scope_tag

  # The RDS-managed master secret: read only, plus the instance it names, to
  # learn host and port (the secret holds only username and password).
  master_secret_arns = [aws_db_instance.this.master_user_secret[0].secret_arn]
  rds_resource_arns  = [aws_db_instance.this.arn]
  kms_key_arns       = var.master_user_secret_kms_key_id != null ? [var.master_user_secret_kms_key_id] : []

  db_tls       = var.db_tls
  db_ca_bundle = var.rds_ca_bundle_layer_zip != null ? local.ca_bundle_path : null
  layers       = aws_lambda_layer_version.rds_ca_bundle[*].arn

  enable_vpc                  = true
  vpc_id                      = var.vpc_id
  subnet_ids                  = var.subnet_ids
  database_ports              = [5432]
  database_security_group_ids = [aws_security_group.database.id]
}

check "tls_can_verify" {
  assert {
    condition     = var.db_tls != "verify-full" || var.rds_ca_bundle_layer_zip != null
    error_message = "db_tls is verify-full but no RDS CA bundle is given: rotations will fail to verify the database. Set rds_ca_bundle_layer_zip (README) or db_tls = \"require\"."
  }
}

# ---------------------------------------------------------------------------
# The application user's secret (second apply)
# ---------------------------------------------------------------------------

module "app_secret" {
  source = "../../modules/rotated-secret"
  count  = var.create_app_secret ? 1 : 0

  name     = "${var.name}/postgres/${var.app_username}"
  engine   = "postgres"
  host     = aws_db_instance.this.address
  port     = aws_db_instance.this.port
  dbname   = "postgres"
  username = var.app_username
  # Write-only: the password reaches Secrets Manager, never the state.
  password_wo = var.app_password
  # The RDS-managed master secret creates and re-passwords the clone.
  master_secret_arn = aws_db_instance.this.master_user_secret[0].secret_arn

  rotation_strategy   = "alternating-users"
  scope_tag           = local.scope_tag
  rotation_lambda_arn = module.rotor.rotator_function_arn
  rotation_rules = {
    schedule_expression = "rate(7 days)"
  }
  # The first rotation is run by rotatenow below, which waits for it.
  rotate_immediately = false

  depends_on = [aws_vpc_security_group_ingress_rule.database_from_rotor]
}

resource "aws_lambda_invocation" "rotate_app_now" {
  count = var.create_app_secret ? 1 : 0

  function_name = module.rotor.rotatenow_function_name

  input = jsonencode({
    secretIds      = [module.app_secret[0].secret_arn]
    wait           = true
    timeoutSeconds = 600
  })

  triggers = {
    secret_arn = module.app_secret[0].secret_arn
  }

  lifecycle {
    precondition {
      condition     = var.app_password != null
      error_message = "create_app_secret needs app_password: the application role's current password."
    }
  }
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
