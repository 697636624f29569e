variable "region" {
  description = "AWS region to deploy into."
  type        = string
}

variable "name" {
  description = "Name prefix of every resource, and the value of the scope tag that puts a secret in the rotor functions' reach."
  type        = string
  default     = "rotor-rds-master-example"
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

variable "initial_master_password" {
  description = "The master password the instance and its secret start with. Ephemeral: it reaches RDS and Secrets Manager through write-only arguments, never the plan or the state. The first rotation (at once, when rotation is attached) replaces it; Terraform never sets it again. Printable ASCII without / @ \" or space, 8-128 characters, as RDS requires."
  type        = string
  sensitive   = true
  ephemeral   = true

  validation {
    condition     = length(var.initial_master_password) >= 8 && length(var.initial_master_password) <= 128 && can(regex("^[!#-.0-?A-~]+$", var.initial_master_password))
    error_message = "initial_master_password must be 8-128 printable ASCII characters other than /, @, \" and space."
  }
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
