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
# The database; its master password lives in a secret of ours
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

# testSecret logs in with the new master password; setSecret needs no route
# to the database (it goes through the RDS API).
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
  username = "rotor_master"
  # Write-only: the initial master password never reaches the plan or the
  # state, and Terraform never sends it again (the version stays 1).
  password_wo         = var.initial_master_password
  password_wo_version = 1

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  backup_retention_period   = 7
  deletion_protection       = var.deletion_protection
  final_snapshot_identifier = "${var.name}-final"

  # From the first rotation on, rotor sets the master password through RDS;
  # a write-only argument is never compared, so Terraform never sets the
  # initial one back.
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
  rotation_strategy  = "rds-master"
  rotated_secret_tag = local.scope_tag

  # ModifyDBInstance and DescribeDBInstances on this one instance only.
  rds_master_arns = [aws_db_instance.this.arn]

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
    error_message = "db_tls is verify-full but no RDS CA bundle is given: testSecret will fail to verify the database. Set rds_ca_bundle_layer_zip (README) or db_tls = \"require\"."
  }
}

module "master_secret" {
  source = "../../modules/rotated-secret"

  name     = "${var.name}/postgres/master"
  engine   = "postgres"
  host     = aws_db_instance.this.address
  port     = aws_db_instance.this.port
  dbname   = "postgres"
  username = aws_db_instance.this.username
  # Write-only, as above.
  password_wo = var.initial_master_password
  # The instance whose master password rotor changes through RDS; with it
  # the rotator needs no rds:DescribeDBInstances on "*".
  db_instance_identifier = aws_db_instance.this.identifier

  rotation_strategy   = "rds-master"
  scope_tag           = local.scope_tag
  rotation_lambda_arn = module.rotor.rotator_function_arn
  rotation_rules = {
    schedule_expression = "rate(30 days)"
  }

  depends_on = [aws_vpc_security_group_ingress_rule.database_from_rotor]
}
