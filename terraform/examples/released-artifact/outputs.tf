output "rotator_function_arn" {
  description = "ARN of the rotator: a secret's rotation_lambda_arn (modules/rotated-secret)."
  value       = module.rotor.rotator_function_arn
}

output "secret_scope_tag" {
  description = "The tag that puts a secret in the functions' reach (modules/rotated-secret scope_tag)."
  value       = module.rotor.secret_scope_tag
}

output "alert_topic_arn" {
  description = "SNS topic of rotor's alerts."
  value       = module.alerts.topic_arn
}
