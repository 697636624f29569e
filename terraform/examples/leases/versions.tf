terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The range of modules/leases.
      version = ">= 5.37.0, < 7.0.0"
    }
  }
}
