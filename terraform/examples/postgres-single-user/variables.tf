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
  description = "Private subnets for the rotator, with a route to Secrets Manager (NAT gateway or endpoint)."
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

variable "username" {
  description = "PostgreSQL user whose password is rotated. It must exist and be allowed to change its own password."
  type        = string
}

variable "password" {
  description = "The user's current password. Ephemeral: it reaches Secrets Manager through a write-only argument and never the plan or the state. It stops working at the first rotation, which this apply starts."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "secret_name" {
  description = "Name of the secret to create."
  type        = string
  default     = "rotor-example/postgres/app"
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
