terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The range of modules/rotated-secret (write-only secret values).
      version = ">= 5.88.0, < 7.0.0"
    }
  }
}
