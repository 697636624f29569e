variable "region" {
  description = "AWS region to deploy into."
  type        = string
}

variable "name" {
  description = "Name prefix of the rotor functions, and the value of the scope tag that puts a secret in their reach."
  type        = string
  default     = "rotor-example"
}

variable "vpc_id" {
  description = "VPC of the database."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the rotator and the Secrets Manager endpoint."
  type        = list(string)
}

variable "database_security_group_id" {
  description = "Security group of the PostgreSQL server; the example admits the rotator to it on database_port."
  type        = string
}

variable "database_host" {
  description = "Host name of the PostgreSQL server, as its certificate names it."
  type        = string
}

variable "database_port" {
  description = "Port of the PostgreSQL server."
  type        = number
  default     = 5432
}

variable "database_name" {
  description = "Database the rotator connects to."
  type        = string
  default     = "postgres"
}

variable "admin_username" {
  description = "PostgreSQL role that creates the clone user and sets its password (CREATEROLE, and membership of the application role with ADMIN OPTION)."
  type        = string
}

variable "admin_password" {
  description = "The admin role's current password."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "app_username" {
  description = "Application role whose credentials alternate between <app_username> and <app_username>_clone."
  type        = string
}

variable "app_password" {
  description = "The application role's current password."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "app_rotation_schedule" {
  description = "When the application secret rotates. Keep it apart from admin_rotation_schedule: a rotation that needs the admin must not run while the admin's own password is changing."
  type        = string
  default     = "cron(0 2 ? * WED *)"
}

variable "admin_rotation_schedule" {
  description = "When the admin secret rotates (single user, through the rotor:strategy tag)."
  type        = string
  default     = "cron(0 2 ? * SUN *)"
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for both secrets. null uses aws/secretsmanager."
  type        = string
  default     = null
}

variable "db_ca_bundle" {
  description = "Path of the PEM bundle that verifies the server's certificate inside the function (e.g. /opt/rds-global-bundle.pem from a layer in layers). null uses the system roots."
  type        = string
  default     = null
}

variable "layers" {
  description = "Layer ARNs for the rotator, e.g. the one that holds db_ca_bundle."
  type        = list(string)
  default     = []
}

variable "alert_emails" {
  description = "E-mail addresses that receive rotor's alerts (each confirms its subscription)."
  type        = list(string)
  default     = []
}

variable "pin_admin_arns" {
  description = "IAM principal ARNs (wildcards allowed) of the administrators who may move the app secret's base-user pin (tag rotor:base-user) when the database moves; the rotator's role is always allowed."
  type        = list(string)
  default     = []
}
