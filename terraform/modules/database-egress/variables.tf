variable "name" {
  description = "Name tag of the security group; its name is <name>-<random suffix> (name_prefix, so a replacement can be created before the old one is destroyed)."
  type        = string
}

variable "description" {
  description = "Description of the security group (changing it replaces the group)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the security group."
  type        = string
}

variable "database_ports" {
  description = "TCP ports the functions may reach the databases on."
  type        = list(number)
}

variable "database_security_group_ids" {
  description = "Security groups of the databases: one egress rule per (port, group)."
  type        = list(string)
  default     = []
}

variable "database_cidr_blocks" {
  description = "IPv4 CIDR blocks of the databases: one egress rule per (port, block)."
  type        = list(string)
  default     = []
}

variable "https_egress_cidr_blocks" {
  description = "IPv4 CIDR blocks the functions may reach on 443 (AWS APIs, through a NAT gateway or an endpoint)."
  type        = list(string)
  default     = []
}

variable "https_description" {
  description = "Description of each 443 egress rule."
  type        = string
  default     = "HTTPS to AWS APIs"
}

variable "tags" {
  description = "Tags for the security group and its rules."
  type        = map(string)
  default     = {}
}
