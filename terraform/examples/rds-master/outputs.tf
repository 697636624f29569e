output "db_instance_address" {
  description = "Host name of the database."
  value       = aws_db_instance.this.address
}

output "master_secret_arn" {
  description = "ARN of the master secret rotor rotates with rds-master; it can be the masterarn of alternating-users secrets (give it to the rotator's master_secret_arns too)."
  value       = module.master_secret.secret_arn
}

output "rotator_function_name" {
  description = "Name of the rotator function."
  value       = module.rotor.rotator_function_name
}
