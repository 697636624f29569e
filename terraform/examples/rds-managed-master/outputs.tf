output "db_instance_address" {
  description = "Host name of the database."
  value       = aws_db_instance.this.address
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed master secret (the admin for alternating users)."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "app_secret_arn" {
  description = "ARN of the application secret, or null before create_app_secret."
  value       = try(module.app_secret[0].secret_arn, null)
}

output "first_rotation" {
  description = "rotatenow's per-secret report of the application secret's first rotation, or null before create_app_secret."
  value       = try(jsondecode(aws_lambda_invocation.rotate_app_now[0].result), null)
}

output "rotator_function_name" {
  description = "Name of the rotator function."
  value       = module.rotor.rotator_function_name
}

output "rotatenow_function_name" {
  description = "Name of the rotatenow function, for rotating on demand."
  value       = module.rotor.rotatenow_function_name
}

output "alert_topic_arn" {
  description = "SNS topic of rotor's alerts; subscribe more endpoints to it."
  value       = module.alerts.topic_arn
}
