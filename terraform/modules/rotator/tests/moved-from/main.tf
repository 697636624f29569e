# The addresses the rotator's security group and egress rules had before
# this module called ../database-egress. moved.tftest.hcl applies this with
# a mock provider, then plans the module on the same state and checks that
# every ID survived. The counts are those of that test's variables.

resource "aws_security_group" "rotator" {
  count  = 1
  vpc_id = "vpc-1"
}

resource "aws_vpc_security_group_egress_rule" "rotator_database_sg" {
  count             = 2
  security_group_id = aws_security_group.rotator[0].id
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/16"
}

resource "aws_vpc_security_group_egress_rule" "rotator_database_cidr" {
  count             = 2
  security_group_id = aws_security_group.rotator[0].id
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/16"
}

resource "aws_vpc_security_group_egress_rule" "rotator_https_cidr" {
  count             = 1
  security_group_id = aws_security_group.rotator[0].id
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/16"
}

output "security_group" {
  description = "ID of the security group at its old address."
  value       = aws_security_group.rotator[0].id
}

output "rules" {
  description = "IDs of the egress rules at their old addresses, by their kind in ../database-egress."
  value = {
    database_sg   = aws_vpc_security_group_egress_rule.rotator_database_sg[*].id
    database_cidr = aws_vpc_security_group_egress_rule.rotator_database_cidr[*].id
    https         = aws_vpc_security_group_egress_rule.rotator_https_cidr[*].id
  }
}
