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
