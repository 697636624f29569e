terraform {
  # 1.11: ephemeral variables (1.10) and write-only arguments (1.11), so
  # the initial password never reaches the plan or the state.
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Lower bound: secret_string_wo on aws_secretsmanager_secret_version
      # (5.88). Upper bound: the next major may break arguments; 6.x is
      # admitted because this module only uses arguments unchanged in 6.x.
      version = ">= 5.88.0, < 7.0.0"
    }
  }
}
