provider "aws" {
  region = var.region

  # The rotator records each outcome in rotor:last-* tags on the secret;
  # they are not Terraform's to remove.
  ignore_tags {
    key_prefixes = ["rotor:last-"]
  }
}

locals {
  # The names `make release` gives the artifacts (README: Releases).
  # arm64 zips for Graviton; x86_64 deployments take the _linux_amd64 zips.
  arch = var.architecture == "arm64" ? "arm64" : "amd64"
  key  = { for f in ["rotator", "rotatenow", "notifier", "auditor"] : f => "${var.artifact_prefix}rotor-${f}_${var.rotor_version}_linux_${local.arch}.zip" }
}

# The release zips, uploaded once per version to a bucket of this region
# (README: Releases). Reading them here fails the plan early, with the key,
# when one is missing, and pins each function to the object's version.
data "aws_s3_object" "package" {
  for_each = local.key

  bucket = var.artifact_bucket
  key    = each.value
}

module "rotor" {
  source = "../../modules/rotator"

  name              = var.name
  rotation_strategy = "single-user"
  architecture      = var.architecture

  s3_bucket                   = var.artifact_bucket
  rotator_s3_key              = local.key.rotator
  rotator_s3_object_version   = data.aws_s3_object.package["rotator"].version_id
  rotatenow_s3_key            = local.key.rotatenow
  rotatenow_s3_object_version = data.aws_s3_object.package["rotatenow"].version_id

  rotated_secret_tag = {
    key   = "rotor:rotator"
    value = var.name
  }
}

module "alerts" {
  source = "../../modules/alerts"

  name                  = var.name
  architecture          = var.architecture
  rotator_function_name = module.rotor.rotator_function_name
  rotated_secret_tag    = module.rotor.secret_scope_tag

  s3_bucket                  = var.artifact_bucket
  notifier_s3_key            = local.key.notifier
  notifier_s3_object_version = data.aws_s3_object.package["notifier"].version_id
  auditor_s3_key             = local.key.auditor
  auditor_s3_object_version  = data.aws_s3_object.package["auditor"].version_id

  email_subscriptions = var.alert_emails
}
