# The function ARN is what aws_secretsmanager_secret_rotation needs. It waits
# for the invoke permission and the role policy (the function module's
# function_arn waits for the latter): RotateSecret refuses a
# function Secrets Manager may not invoke, and a rotation started before the
# policy exists fails with AccessDenied.
output "rotator_function_arn" {
  description = "ARN of the rotator function; give it to rotated-secret's rotation_lambda_arn. Known only once the invoke permission and the role policy exist."
  value       = try(module.rotator[0].function_arn, null)
  depends_on  = [aws_lambda_permission.secretsmanager]
}

output "rotator_function_name" {
  description = "Name of the rotator function."
  value       = try(module.rotator[0].function_name, null)
  depends_on  = [aws_lambda_permission.secretsmanager]
}

output "rotator_role_arn" {
  description = "ARN of the rotator's IAM role (for KMS key policies or secret resource policies that name it)."
  value       = try(module.rotator[0].role_arn, null)
}

output "rotator_role_name" {
  description = "Name of the rotator's IAM role."
  value       = try(module.rotator[0].role_name, null)
}

output "rotator_log_group_name" {
  description = "CloudWatch log group of the rotator (for metric filters and alarms)."
  value       = try(module.rotator[0].log_group_name, null)
}

output "rotator_log_group_arn" {
  description = "ARN of the rotator's CloudWatch log group."
  value       = try(module.rotator[0].log_group_arn, null)
}

output "rotatenow_function_arn" {
  description = "ARN of the rotatenow function."
  value       = try(module.rotatenow[0].function_arn, null)
}

output "rotatenow_function_name" {
  description = "Name of the rotatenow function; invoke it (e.g. with aws_lambda_invocation) with {\"secretIds\":[...],\"wait\":true}."
  value       = try(module.rotatenow[0].function_name, null)
}

output "rotatenow_role_arn" {
  description = "ARN of the rotatenow function's IAM role."
  value       = try(module.rotatenow[0].role_arn, null)
}

output "rotatenow_role_name" {
  description = "Name of the rotatenow function's IAM role."
  value       = try(module.rotatenow[0].role_name, null)
}

output "rotatenow_log_group_name" {
  description = "CloudWatch log group of the rotatenow function."
  value       = try(module.rotatenow[0].log_group_name, null)
}

output "rotatenow_log_group_arn" {
  description = "ARN of the rotatenow function's CloudWatch log group."
  value       = try(module.rotatenow[0].log_group_arn, null)
}

output "functions" {
  description = "Both functions keyed by name (rotator, rotatenow), each with function_arn, function_name, role_arn, role_name and log_group_name: what an alerting module iterates over."
  value = !var.create ? {} : {
    rotator = {
      function_arn   = module.rotator[0].function_arn
      function_name  = module.rotator[0].function_name
      role_arn       = module.rotator[0].role_arn
      role_name      = module.rotator[0].role_name
      log_group_name = module.rotator[0].log_group_name
    }
    rotatenow = {
      function_arn   = module.rotatenow[0].function_arn
      function_name  = module.rotatenow[0].function_name
      role_arn       = module.rotatenow[0].role_arn
      role_name      = module.rotatenow[0].role_name
      log_group_name = module.rotatenow[0].log_group_name
    }
  }
}

output "secret_scope_tag" {
  description = "The tag (key, value) that puts a secret in the functions' scope, or null when scoping is by ARN only. Pass it to rotated-secret's scope_tag."
  value       = var.rotated_secret_tag
}

output "security_group_id" {
  description = "Security group of the rotator, or null outside a VPC. Allow it in the databases' ingress rules."
  value       = try(module.rotator_egress[0].security_group_id, null)
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
