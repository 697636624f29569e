output "issuer_function_name" {
  description = "Name of the issuer function: what `rotor lease --function` and lambdaissuer.New take (ROTOR_ISSUER_FUNCTION)."
  value       = try(module.issuer[0].function_name, null)
}

output "issuer_function_arn" {
  description = "ARN of the issuer function."
  value       = try(module.issuer[0].function_arn, null)
}

output "invoke_policy_json" {
  description = "IAM policy document (JSON) granting lambda:InvokeFunction on the issuer and nothing else: attach it to the roles of the applications and people that get leases."
  value       = try(data.aws_iam_policy_document.invoke[0].json, null)
}

output "reaper_function_name" {
  description = "Name of the reaper function."
  value       = try(module.reaper[0].function_name, null)
}

output "reaper_function_arn" {
  description = "ARN of the reaper function."
  value       = try(module.reaper[0].function_arn, null)
}

output "issuer_role_arn" {
  description = "ARN of the issuer's IAM role (for KMS key policies or secret resource policies that name it)."
  value       = try(module.issuer[0].role_arn, null)
}

output "reaper_role_arn" {
  description = "ARN of the reaper's IAM role."
  value       = try(module.reaper[0].role_arn, null)
}

output "issuer_log_group_name" {
  description = "CloudWatch log group of the issuer."
  value       = try(module.issuer[0].log_group_name, null)
}

output "reaper_log_group_name" {
  description = "CloudWatch log group of the reaper."
  value       = try(module.reaper[0].log_group_name, null)
}

output "security_group_id" {
  description = "Security group of both functions when enable_vpc is true (allow it in the databases' ingress rules), else null."
  value       = try(module.egress[0].security_group_id, null)
}

output "lease_roles_json" {
  description = "The LEASE_ROLES value both functions get (docs/leases.md): the role definitions in their wire names."
  value       = local.lease_roles_json
}
