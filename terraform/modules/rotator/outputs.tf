# The function ARN is what aws_secretsmanager_secret_rotation needs. It waits
# for the invoke permission and the role policy: RotateSecret refuses a
# function Secrets Manager may not invoke, and a rotation started before the
# policy exists fails with AccessDenied.
output "rotator_function_arn" {
  description = "ARN of the rotator function; give it to rotated-secret's rotation_lambda_arn. Known only once the invoke permission and the role policy exist."
  value       = aws_lambda_function.rotator.arn
  depends_on  = [aws_lambda_permission.secretsmanager, aws_iam_role_policy.rotator]
}

output "rotator_function_name" {
  description = "Name of the rotator function."
  value       = aws_lambda_function.rotator.function_name
  depends_on  = [aws_lambda_permission.secretsmanager, aws_iam_role_policy.rotator]
}

output "rotator_role_arn" {
  description = "ARN of the rotator's IAM role (for KMS key policies or secret resource policies that name it)."
  value       = aws_iam_role.rotator.arn
}

output "rotator_role_name" {
  description = "Name of the rotator's IAM role."
  value       = aws_iam_role.rotator.name
}

output "rotator_log_group_name" {
  description = "CloudWatch log group of the rotator (for metric filters and alarms)."
  value       = aws_cloudwatch_log_group.rotator.name
}

output "rotator_log_group_arn" {
  description = "ARN of the rotator's CloudWatch log group."
  value       = aws_cloudwatch_log_group.rotator.arn
}

output "rotatenow_function_arn" {
  description = "ARN of the rotatenow function."
  value       = aws_lambda_function.rotatenow.arn
  depends_on  = [aws_iam_role_policy.rotatenow]
}

output "rotatenow_function_name" {
  description = "Name of the rotatenow function; invoke it (e.g. with aws_lambda_invocation) with {\"secretIds\":[...],\"wait\":true}."
  value       = aws_lambda_function.rotatenow.function_name
  depends_on  = [aws_iam_role_policy.rotatenow]
}

output "rotatenow_role_arn" {
  description = "ARN of the rotatenow function's IAM role."
  value       = aws_iam_role.rotatenow.arn
}

output "rotatenow_role_name" {
  description = "Name of the rotatenow function's IAM role."
  value       = aws_iam_role.rotatenow.name
}

output "rotatenow_log_group_name" {
  description = "CloudWatch log group of the rotatenow function."
  value       = aws_cloudwatch_log_group.rotatenow.name
}

output "rotatenow_log_group_arn" {
  description = "ARN of the rotatenow function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.rotatenow.arn
}

output "functions" {
  description = "Both functions keyed by name (rotator, rotatenow), each with function_arn, function_name, role_arn, role_name and log_group_name: what an alerting module iterates over."
  value = {
    rotator = {
      function_arn   = aws_lambda_function.rotator.arn
      function_name  = aws_lambda_function.rotator.function_name
      role_arn       = aws_iam_role.rotator.arn
      role_name      = aws_iam_role.rotator.name
      log_group_name = aws_cloudwatch_log_group.rotator.name
    }
    rotatenow = {
      function_arn   = aws_lambda_function.rotatenow.arn
      function_name  = aws_lambda_function.rotatenow.function_name
      role_arn       = aws_iam_role.rotatenow.arn
      role_name      = aws_iam_role.rotatenow.name
      log_group_name = aws_cloudwatch_log_group.rotatenow.name
    }
  }
}

output "secret_scope_tag" {
  description = "The tag (key, value) that puts a secret in the functions' scope, or null when scoping is by ARN only. Pass it to rotated-secret's scope_tag."
  value       = var.rotated_secret_tag
}

output "security_group_id" {
  description = "Security group of the rotator, or null outside a VPC. Allow it in the databases' ingress rules."
  value       = try(aws_security_group.rotator[0].id, null)
}

output "secretsmanager_endpoint_id" {
  description = "ID of the Secrets Manager VPC endpoint, or null when not created."
  value       = try(aws_vpc_endpoint.secretsmanager[0].id, null)
}

output "secretsmanager_endpoint_security_group_id" {
  description = "Security group of the Secrets Manager VPC endpoint, or null when not created."
  value       = try(aws_security_group.secretsmanager_endpoint[0].id, null)
}

output "secretsmanager_endpoint_dns_name" {
  description = "Regional DNS name of the Secrets Manager VPC endpoint, or null when not created."
  value       = try(aws_vpc_endpoint.secretsmanager[0].dns_entry[0].dns_name, null)
}
