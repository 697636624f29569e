terraform {
  # Everything used here (preconditions, validation blocks, depends_on in
  # outputs) exists in 1.3; 1.5 is the floor rotor supports and tests with.
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Lower bound: logging_config on aws_lambda_function (5.26) and
      # rotate_immediately defaulting to true (5.37). Upper bound: the next
      # major may break arguments; 6.x is admitted because this module only
      # uses arguments unchanged in 6.x (the region is read through
      # data.aws_region's `id`, stable across both).
      version = ">= 5.37.0, < 7.0.0"
    }
  }
}
