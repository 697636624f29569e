variable "region" {
  description = "AWS region to deploy into."
  type        = string
}

variable "name" {
  description = "Name prefix of every resource, and the value of the scope tag that puts a secret in the rotor functions' reach."
  type        = string
  default     = "rotor-rds-example"
}

variable "vpc_id" {
  description = "VPC for the database and the rotator."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two availability zones, for the DB subnet group and the rotator. They need a route to Secrets Manager and RDS (NAT gateway or endpoints)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "A DB subnet group needs subnets in at least two availability zones."
  }
}

variable "engine_version" {
  description = "PostgreSQL major version for the instance."
  type        = string
  default     = "16"
}

variable "instance_class" {
  description = "Instance class of the database."
  type        = string
  default     = "db.t4g.micro"
}

variable "master_user_secret_kms_key_id" {
  description = "Customer managed KMS key ARN for the RDS-managed master secret. null uses aws/secretsmanager, which needs no KMS grant."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Protect the instance from deletion (set false before `terraform destroy`)."
  type        = bool
  default     = true
}

variable "rds_ca_bundle_layer_zip" {
  description = "Path to a zip holding rds-global-bundle.pem at its root (see README). It becomes a layer, and the rotator verifies the database against it (/opt/rds-global-bundle.pem). null leaves verification to the system roots, which do not hold the RDS CAs: set db_tls to require then."
  type        = string
  default     = null
}

variable "db_tls" {
  description = "TLS mode of the rotator's connections: verify-full with rds_ca_bundle_layer_zip, else require."
  type        = string
  default     = "verify-full"
}

variable "create_app_secret" {
  description = "Create and rotate the application user's secret. Leave false for the first apply, create the user with the master credentials (README), then apply again with true."
  type        = bool
  default     = false
}

variable "app_username" {
  description = "PostgreSQL role of the application, created by hand after the first apply."
  type        = string
  default     = "app"
}

variable "app_password" {
  description = "The application role's initial password; needed when create_app_secret is true. It stops working at the first rotation, which the apply runs and waits for."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "alert_emails" {
  description = "E-mail addresses that receive rotor's alerts (each confirms its subscription)."
  type        = list(string)
  default     = []
}
