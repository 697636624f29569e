# The function's name and ARN wait for the role policy, so a caller that
# invokes the function (or lets another service invoke it) never does so
# before it has its permissions.
output "function_arn" {
  description = "ARN of the Lambda function; known once its role policy exists."
  value       = aws_lambda_function.this.arn
  depends_on  = [aws_iam_role_policy.this]
}

output "function_name" {
  description = "Name of the Lambda function; known once its role policy exists."
  value       = aws_lambda_function.this.function_name
  depends_on  = [aws_iam_role_policy.this]
}

output "environment_variables" {
  description = "Environment variables the function is given (for tests)."
  value       = aws_lambda_function.this.environment[0].variables
}

output "log_format" {
  description = "Log format of the function (JSON)."
  value       = aws_lambda_function.this.logging_config[0].log_format
}

output "role_arn" {
  description = "ARN of the function's IAM role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the function's IAM role."
  value       = aws_iam_role.this.name
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the function's CloudWatch log group; the role policy grants logs:CreateLogStream and logs:PutLogEvents on \"<arn>:*\"."
  value       = aws_cloudwatch_log_group.this.arn
}

output "log_retention_days" {
  description = "Retention of the function's log group, in days."
  value       = aws_cloudwatch_log_group.this.retention_in_days
}

output "policy_json" {
  description = "JSON of the role's inline policy rotor-<function>: the caller's policy, and in a VPC the network-interface actions (for tests)."
  value       = aws_iam_role_policy.this.policy
}

output "errors_alarm_arn" {
  description = "ARN of the errors alarm, or null without errors_alarm."
  value       = one(aws_cloudwatch_metric_alarm.errors[*].arn)
}

output "errors_alarm_name" {
  description = "Name of the errors alarm, or null without errors_alarm."
  value       = one(aws_cloudwatch_metric_alarm.errors[*].alarm_name)
}

output "schedule" {
  description = "The schedule, or null without one: the EventBridge rule's ARN and schedule_expression, and the IDs of its target and Lambda permission (for tests)."
  value = one([for i, r in aws_cloudwatch_event_rule.schedule : {
    rule_arn            = r.arn
    schedule_expression = r.schedule_expression
    target_id           = aws_cloudwatch_event_target.schedule[i].id
    permission_id       = aws_lambda_permission.schedule[i].id
  }])
}

output "async_invoke_config" {
  description = "The asynchronous invocation settings, or null for Lambda's defaults: ID and maximum_retry_attempts (for tests)."
  value = one([for c in aws_lambda_function_event_invoke_config.this : {
    id                     = c.id
    maximum_retry_attempts = c.maximum_retry_attempts
  }])
}
