variable "region" {
  description = "AWS region to deploy into; the artifact bucket must be in it (Lambda reads code from a bucket of its own region)."
  type        = string
}

variable "name" {
  description = "Name prefix of the rotor functions, and the value of the scope tag that puts a secret in their reach."
  type        = string
  default     = "rotor"
}

variable "rotor_version" {
  description = "Release to deploy, as tagged (v1.2.3)."
  type        = string

  validation {
    condition     = can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$", var.rotor_version))
    error_message = "rotor_version must be a release tag such as v1.2.3."
  }
}

variable "artifact_bucket" {
  description = "S3 bucket (in region) holding the release zips. Versioning on the bucket lets each function pin its object version."
  type        = string
}

variable "artifact_prefix" {
  description = "Key prefix of the release zips in artifact_bucket, ending in / when not empty (e.g. rotor/v1.2.3/)."
  type        = string
  default     = ""
}

variable "architecture" {
  description = "Instruction set of the functions: arm64 deploys the _linux_arm64 zips, x86_64 the _linux_amd64 ones."
  type        = string
  default     = "arm64"
}

variable "alert_emails" {
  description = "E-mail addresses that receive rotor's alerts (each confirms its subscription)."
  type        = list(string)
  default     = []
}
