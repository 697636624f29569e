provider "aws" {
  region = var.region
}

# Short-lived PostgreSQL users for the applications: each instance asks the
# issuer for a user of its own (role definition app_ro, a member of the
# operators' app_readers group), valid for an hour and renewable up to a
# day; the reaper drops expired users every five minutes.
module "leases" {
  source = "../../modules/leases"

  name = var.name

  roles = [
    {
      name                = "app_ro"
      admin_secret_arn    = var.admin_secret_arn
      group_role          = var.group_role
      default_ttl_seconds = 3600
      max_ttl_seconds     = 86400
      engine              = "postgres"
    },
  ]

  db_tls       = "verify-full"
  db_ca_bundle = var.db_ca_bundle
  layers       = var.layers

  enable_vpc                  = true
  vpc_id                      = var.vpc_id
  subnet_ids                  = var.subnet_ids
  database_ports              = [var.database_port]
  database_security_group_ids = [var.database_security_group_id]

  reaper_schedule_expression = "rate(5 minutes)"
  alarm_topic_arn            = var.alarm_topic_arn
}

# Admit the issuer and the reaper to the database.
resource "aws_vpc_security_group_ingress_rule" "database_from_leases" {
  security_group_id            = var.database_security_group_id
  description                  = "PostgreSQL from the rotor lease issuer and reaper"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = module.leases.security_group_id
}

# The application's role may invoke the issuer, and do nothing else with it.
resource "aws_iam_role_policy" "app_gets_leases" {
  count = var.app_role_name != null ? 1 : 0

  name   = "${var.name}-leases"
  role   = var.app_role_name
  policy = module.leases.invoke_policy_json
}
