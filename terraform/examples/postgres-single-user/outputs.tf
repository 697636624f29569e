output "secret_arn" {
  description = "ARN of the rotated secret."
  value       = module.app_secret.secret_arn
}

output "rotator_function_name" {
  description = "Name of the rotator function."
  value       = module.rotor.rotator_function_name
}

output "rotatenow_function_name" {
  description = "Name of the rotatenow function, for rotating on demand."
  value       = module.rotor.rotatenow_function_name
}

output "rotator_log_group_name" {
  description = "Log group of the rotator."
  value       = module.rotor.rotator_log_group_name
}

output "alert_topic_arn" {
  description = "SNS topic of rotor's alerts; subscribe more endpoints to it."
  value       = module.alerts.topic_arn
}
