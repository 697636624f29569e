output "topic_arn" {
  description = "ARN of the alert topic; subscribe more endpoints to it (filter on the message attributes kind, secret and step)."
  value       = aws_sns_topic.alerts.arn
}

output "kms_key_arn" {
  description = "ARN of the customer managed key encrypting the topic (the module's own or kms_key_arn); null when the topic uses alias/aws/sns."
  value       = try(local.topic_key_arn, null)
}

output "topic_name" {
  description = "Name of the alert topic."
  value       = aws_sns_topic.alerts.name
}

output "notifier_function_name" {
  description = "Name of the notifier function."
  value       = module.notifier.function_name
}

output "notifier_function_arn" {
  description = "ARN of the notifier function."
  value       = module.notifier.function_arn
}

output "auditor_function_name" {
  description = "Name of the auditor function (the FunctionName dimension of its metrics)."
  value       = module.auditor.function_name
}

output "auditor_function_arn" {
  description = "ARN of the auditor function; invoke it to audit now."
  value       = module.auditor.function_arn
}

output "notifier_role_arn" {
  description = "ARN of the notifier's IAM role (for a KMS key policy or a secret resource policy that must name it)."
  value       = module.notifier.role_arn
}

output "auditor_role_arn" {
  description = "ARN of the auditor's IAM role."
  value       = module.auditor.role_arn
}

output "rotation_failures_rule_arn" {
  description = "ARN of the EventBridge rule that sends rotation failures to the notifier."
  value       = aws_cloudwatch_event_rule.rotation_failures.arn
}

output "audit_rule_arn" {
  description = "ARN of the EventBridge schedule that runs the auditor."
  value       = aws_cloudwatch_event_rule.audit.arn
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms by purpose (rotator_errors, plaintext_logins, notifier_errors, auditor_errors, and one per finding metric); empty when alarms are off or the topic has no customer managed key."
  value = merge(
    { for k, a in aws_cloudwatch_metric_alarm.rotator_errors : "rotator_errors" => a.arn },
    { for k, a in aws_cloudwatch_metric_alarm.plaintext_logins : "plaintext_logins" => a.arn },
    { for k, a in aws_cloudwatch_metric_alarm.function_errors : "${k}_errors" => a.arn },
    { for k, a in aws_cloudwatch_metric_alarm.findings : k => a.arn },
  )
}

output "log_group_names" {
  description = "CloudWatch log groups of the notifier and auditor."
  value = {
    notifier = module.notifier.log_group_name
    auditor  = module.auditor.log_group_name
  }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard; null when create_dashboard is false."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "dashboard_arn" {
  description = "ARN of the CloudWatch dashboard; null when create_dashboard is false."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_arn, null)
}
