# The security group of rotor functions that log in to databases from a
# VPC: egress to the databases' ports and to 443, no ingress. The rotator
# module gives its rotator one, the leases module its issuer and reaper one
# between them; the rules are written here once.

locals {
  # One egress rule per (port, database security group) and per (port,
  # CIDR) pair. Counted from list lengths only, so security group IDs
  # created in the same apply still plan.
  n_db_sg   = length(var.database_security_group_ids)
  n_db_cidr = length(var.database_cidr_blocks)
}

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  description = var.description
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = var.name })

  # Egress is managed by the rule resources below; this resource's own
  # inline rules stay empty, so AWS's default allow-all egress is removed.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "database_sg" {
  count = length(var.database_ports) * local.n_db_sg

  security_group_id            = aws_security_group.this.id
  description                  = "Database port to a database security group"
  ip_protocol                  = "tcp"
  from_port                    = var.database_ports[floor(count.index / local.n_db_sg)]
  to_port                      = var.database_ports[floor(count.index / local.n_db_sg)]
  referenced_security_group_id = var.database_security_group_ids[count.index % local.n_db_sg]
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "database_cidr" {
  count = length(var.database_ports) * local.n_db_cidr

  security_group_id = aws_security_group.this.id
  description       = "Database port to a database CIDR block"
  ip_protocol       = "tcp"
  from_port         = var.database_ports[floor(count.index / local.n_db_cidr)]
  to_port           = var.database_ports[floor(count.index / local.n_db_cidr)]
  cidr_ipv4         = var.database_cidr_blocks[count.index % local.n_db_cidr]
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "https" {
  count = length(var.https_egress_cidr_blocks)

  security_group_id = aws_security_group.this.id
  description       = var.https_description
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.https_egress_cidr_blocks[count.index]
  tags              = var.tags
}
