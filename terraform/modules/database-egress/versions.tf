terraform {
  # 1.5 is the floor rotor supports and tests with.
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Lower bound: the callers' (aws_vpc_security_group_egress_rule exists
      # since 5.0). Upper bound: the next major may break arguments; 6.x
      # is admitted because these arguments are unchanged in 6.x.
      version = ">= 5.37.0, < 7.0.0"
    }
  }
}
