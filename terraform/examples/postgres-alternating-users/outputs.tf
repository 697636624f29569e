output "app_secret_arn" {
  description = "ARN of the application secret (alternating users)."
  value       = module.app_secret.secret_arn
}

output "admin_secret_arn" {
  description = "ARN of the admin secret (single user)."
  value       = module.admin_secret.secret_arn
}

output "first_rotation" {
  description = "rotatenow's per-secret report of the first rotations."
  value = {
    app   = jsondecode(aws_lambda_invocation.rotate_app_now.result)
    admin = jsondecode(aws_lambda_invocation.rotate_admin_now.result)
  }
}

output "rotatenow_function_name" {
  description = "Name of the rotatenow function, for rotating on demand."
  value       = module.rotor.rotatenow_function_name
}

output "secretsmanager_endpoint_id" {
  description = "ID of the Secrets Manager VPC endpoint the example creates."
  value       = module.rotor.secretsmanager_endpoint_id
}

output "alert_topic_arn" {
  description = "SNS topic of rotor's alerts; subscribe more endpoints to it."
  value       = module.alerts.topic_arn
}
