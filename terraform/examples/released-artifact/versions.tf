terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Same range as the modules (see modules/rotator/versions.tf).
      version = ">= 5.37.0, < 7.0.0"
    }
  }
}
