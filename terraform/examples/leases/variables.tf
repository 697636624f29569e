variable "region" {
  description = "AWS region to deploy into."
  type        = string
}

variable "name" {
  description = "Name prefix of the lease functions (<name>-issuer, <name>-reaper)."
  type        = string
  default     = "rotor"
}

variable "admin_secret_arn" {
  description = "Full ARN of the admin secret the functions log in with (a PostgreSQL role with CREATEROLE, e.g. the masterarn of an alternating-users secret rotor rotates)."
  type        = string
}

variable "group_role" {
  description = "The NOLOGIN group role the database's operators created and granted what the applications may do; every lease user becomes a member."
  type        = string
  default     = "app_readers"
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the functions, with a route to Secrets Manager (NAT gateway or endpoint)."
  type        = list(string)
}

variable "database_security_group_id" {
  description = "Security group of the PostgreSQL server; the example admits the functions to it on database_port."
  type        = string
}

variable "database_port" {
  description = "Port of the PostgreSQL server."
  type        = number
  default     = 5432
}

variable "db_ca_bundle" {
  description = "Path of the PEM bundle that verifies the server's certificate inside the functions (e.g. /opt/rds-global-bundle.pem from a layer in layers). null uses the system roots."
  type        = string
  default     = null
}

variable "layers" {
  description = "Layer ARNs for the functions, e.g. the one that holds db_ca_bundle."
  type        = list(string)
  default     = null
}

variable "app_role_name" {
  description = "Name of an existing IAM role of the application (its task or instance role) to allow to invoke the issuer. null attaches nothing: use the invoke_policy_json output yourself."
  type        = string
  default     = null
}

variable "alarm_topic_arn" {
  description = "SNS topic for the functions' error alarms, e.g. the alerts module's topic_arn (deployed with the same name). null creates no alarm."
  type        = string
  default     = null
}
