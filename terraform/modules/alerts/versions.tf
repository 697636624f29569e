terraform {
  # check blocks (the alarm/key warning) need 1.5.
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Lower bound: logging_config on aws_lambda_function (5.26). Upper
      # bound: the next major may break arguments; 6.x is admitted because
      # only arguments unchanged in 6.x are used (the region is read through
      # data.aws_region's `id`).
      version = ">= 5.37.0, < 7.0.0"
    }
  }
}
