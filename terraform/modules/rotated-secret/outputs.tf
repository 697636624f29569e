output "secret_arn" {
  description = "ARN of the secret (give it to the rotator module's rotated_secret_arns when scoping by ARN)."
  value       = try(aws_secretsmanager_secret.this[0].arn, null)
}

output "secret_id" {
  description = "ID of the secret (its ARN)."
  value       = try(aws_secretsmanager_secret.this[0].id, null)
}

output "secret_name" {
  description = "Name of the secret."
  value       = try(aws_secretsmanager_secret.this[0].name, null)
}

output "initial_version_id" {
  description = "Version ID of the initial value Terraform wrote. After the first rotation it is no longer AWSCURRENT."
  value       = try(aws_secretsmanager_secret_version.initial[0].version_id, null)
}

output "rotation_enabled" {
  description = "Whether rotation is configured on the secret."
  value       = var.create && var.enable_rotation
}

output "rotation_lambda_arn" {
  description = "ARN of the function that rotates the secret, or null when rotation is not configured."
  value       = try(aws_secretsmanager_secret_rotation.this[0].rotation_lambda_arn, null)
}

output "kms_key_id" {
  description = "KMS key that encrypts the secret, or null for aws/secretsmanager."
  value       = var.kms_key_id
}
