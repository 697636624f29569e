# The addresses the security groups and egress rules had before
# ../database-egress held them: the rotator module's and the leases
# module's own resources. rotator/tests/moved.tftest.hcl and
# leases/tests/moved.tftest.hcl apply this with a mock provider, then apply
# their module on the same state and check that every ID survived: the
# moved blocks took the resources over instead of a destroy and a create.
# The counts are those of the tests' variables (two ports, one database
# security group, one database CIDR block, the default 443 CIDR block).

locals {
  rules = { database_sg = 2, database_cidr = 2, https = 1 }
}

resource "aws_security_group" "rotator" {
  count  = 1
  vpc_id = "vpc-1"
}

resource "aws_vpc_security_group_egress_rule" "rotator_database_sg" {
  count             = local.rules.database_sg
  security_group_id = aws_security_group.rotator[0].id
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/16"
}

resource "aws_vpc_security_group_egress_rule" "rotator_database_cidr" {
  count             = local.rules.database_cidr
  security_group_id = aws_security_group.rotator[0].id
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/16"
}

resource "aws_vpc_security_group_egress_rule" "rotator_https_cidr" {
  count             = local.rules.https
  security_group_id = aws_security_group.rotator[0].id
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/16"
}

resource "aws_security_group" "functions" {
  count  = 1
  vpc_id = "vpc-1"
}

resource "aws_vpc_security_group_egress_rule" "database_sg" {
  count             = local.rules.database_sg
  security_group_id = aws_security_group.functions[0].id
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/16"
}

resource "aws_vpc_security_group_egress_rule" "database_cidr" {
  count             = local.rules.database_cidr
  security_group_id = aws_security_group.functions[0].id
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/16"
}

resource "aws_vpc_security_group_egress_rule" "https" {
  count             = local.rules.https
  security_group_id = aws_security_group.functions[0].id
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/16"
}

output "rotator" {
  description = "IDs of the rotator module's security group and rules, at their old addresses."
  value = {
    security_group = aws_security_group.rotator[0].id
    rules = {
      database_sg   = aws_vpc_security_group_egress_rule.rotator_database_sg[*].id
      database_cidr = aws_vpc_security_group_egress_rule.rotator_database_cidr[*].id
      https         = aws_vpc_security_group_egress_rule.rotator_https_cidr[*].id
    }
  }
}

output "leases" {
  description = "IDs of the leases module's security group and rules, at their old addresses."
  value = {
    security_group = aws_security_group.functions[0].id
    rules = {
      database_sg   = aws_vpc_security_group_egress_rule.database_sg[*].id
      database_cidr = aws_vpc_security_group_egress_rule.database_cidr[*].id
      https         = aws_vpc_security_group_egress_rule.https[*].id
    }
  }
}
