output "topic_arn" {
  description = "ARN of the alert topic; subscribe more endpoints to it (filter on the message attributes kind, secret and step)."
  value       = try(aws_sns_topic.alerts[0].arn, null)
}

output "kms_key_arn" {
  description = "ARN of the customer managed key encrypting the topic (the module's own or kms_key_arn); null when the topic uses alias/aws/sns or create is false."
  value       = var.create ? local.topic_key_arn : null
}

output "topic_name" {
  description = "Name of the alert topic."
  value       = try(aws_sns_topic.alerts[0].name, null)
}

output "notifier_function_name" {
  description = "Name of the notifier function."
  value       = try(module.notifier[0].function_name, null)
}

output "notifier_function_arn" {
  description = "ARN of the notifier function."
  value       = try(module.notifier[0].function_arn, null)
}

output "auditor_function_name" {
  description = "Name of the auditor function (the FunctionName dimension of its metrics)."
  value       = try(module.auditor[0].function_name, null)
}

output "auditor_function_arn" {
  description = "ARN of the auditor function; invoke it to audit now."
  value       = try(module.auditor[0].function_arn, null)
}

output "notifier_role_arn" {
  description = "ARN of the notifier's IAM role (for a KMS key policy or a secret resource policy that must name it)."
  value       = try(module.notifier[0].role_arn, null)
}

output "auditor_role_arn" {
  description = "ARN of the auditor's IAM role."
  value       = try(module.auditor[0].role_arn, null)
}

output "rotation_failures_rule_arn" {
  description = "ARN of the EventBridge rule that sends rotation failures to the notifier."
  value       = try(aws_cloudwatch_event_rule.rotation_failures[0].arn, null)
}

output "audit_rule_arn" {
  description = "ARN of the EventBridge schedule that runs the auditor."
  value       = try(module.auditor[0].schedule.rule_arn, null)
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms by purpose (rotator_errors, plaintext_logins, notifier_errors, auditor_errors, and one per finding metric); empty when alarms are off or the topic has no customer managed key."
  value = merge(
    { for k, a in aws_cloudwatch_metric_alarm.rotator_errors : "rotator_errors" => a.arn },
    { for k, a in aws_cloudwatch_metric_alarm.plaintext_logins : "plaintext_logins" => a.arn },
    local.alarms_enabled ? { notifier_errors = module.notifier[0].errors_alarm_arn, auditor_errors = module.auditor[0].errors_alarm_arn } : {},
    { for k, a in aws_cloudwatch_metric_alarm.findings : k => a.arn },
  )
}

output "log_group_names" {
  description = "CloudWatch log groups of the notifier and auditor; empty when create is false."
  value = var.create ? {
    notifier = module.notifier[0].log_group_name
    auditor  = module.auditor[0].log_group_name
  } : {}
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard; null when create_dashboard is false."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "dashboard_arn" {
  description = "ARN of the CloudWatch dashboard; null when create_dashboard is false."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_arn, null)
}
