output "security_group_id" {
  description = "ID of the security group, for the functions' vpc_config and the databases' ingress rules."
  value       = aws_security_group.this.id
}

output "egress_rules" {
  description = "The egress rules by kind (database_sg, database_cidr, https), each a list of the rule's ID, port and destination (a security group ID or a CIDR block) in count order (for tests)."
  value = {
    database_sg   = [for r in aws_vpc_security_group_egress_rule.database_sg : { id = r.id, port = r.from_port, to = r.referenced_security_group_id }]
    database_cidr = [for r in aws_vpc_security_group_egress_rule.database_cidr : { id = r.id, port = r.from_port, to = r.cidr_ipv4 }]
    https         = [for r in aws_vpc_security_group_egress_rule.https : { id = r.id, port = r.from_port, to = r.cidr_ipv4 }]
  }
}
