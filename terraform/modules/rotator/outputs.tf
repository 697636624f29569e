# The function ARN is what aws_secretsmanager_secret_rotation needs. It waits
# for the invoke permission and the role policy (the function module's
# function_arn waits for the latter): RotateSecret refuses a
# function Secrets Manager may not invoke, and a rotation started before the
# policy exists fails with AccessDenied.
output "rotator_function_arn" {
  description = "ARN of the rotator function; give it to rotated-secret's rotation_lambda_arn. Known only once the invoke permission and the role policy exist."
  value       = module.rotator.function_arn
  depends_on  = [aws_lambda_permission.secretsmanager]
}

output "rotator_function_name" {
  description = "Name of the rotator function."
  value       = module.rotator.function_name
  depends_on  = [aws_lambda_permission.secretsmanager]
}

output "rotator_role_arn" {
  description = "ARN of the rotator's IAM role (for KMS key policies or secret resource policies that name it)."
  value       = module.rotator.role_arn
}

output "rotator_role_name" {
  description = "Name of the rotator's IAM role."
  value       = module.rotator.role_name
}

output "rotator_log_group_name" {
  description = "CloudWatch log group of the rotator (for metric filters and alarms)."
  value       = module.rotator.log_group_name
}

output "rotator_log_group_arn" {
  description = "ARN of the rotator's CloudWatch log group."
  value       = module.rotator.log_group_arn
}

output "rotatenow_function_arn" {
  description = "ARN of the rotatenow function."
  value       = module.rotatenow.function_arn
}

output "rotatenow_function_name" {
  description = "Name of the rotatenow function; invoke it (e.g. with aws_lambda_invocation) with {\"secretIds\":[...],\"wait\":true}."
  value       = module.rotatenow.function_name
}

output "rotatenow_role_arn" {
  description = "ARN of the rotatenow function's IAM role."
  value       = module.rotatenow.role_arn
}

output "rotatenow_role_name" {
  description = "Name of the rotatenow function's IAM role."
  value       = module.rotatenow.role_name
}

output "rotatenow_log_group_name" {
  description = "CloudWatch log group of the rotatenow function."
  value       = module.rotatenow.log_group_name
}

output "rotatenow_log_group_arn" {
  description = "ARN of the rotatenow function's CloudWatch log group."
  value       = module.rotatenow.log_group_arn
}

output "functions" {
  description = "Both functions keyed by name (rotator, rotatenow), each with function_arn, function_name, role_arn, role_name and log_group_name: what an alerting module iterates over."
  value = {
    rotator = {
      function_arn   = module.rotator.function_arn
      function_name  = module.rotator.function_name
      role_arn       = module.rotator.role_arn
      role_name      = module.rotator.role_name
      log_group_name = module.rotator.log_group_name
    }
    rotatenow = {
      function_arn   = module.rotatenow.function_arn
      function_name  = module.rotatenow.function_name
      role_arn       = module.rotatenow.role_arn
      role_name      = module.rotatenow.role_name
      log_group_name = module.rotatenow.log_group_name
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
