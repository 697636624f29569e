locals {
  # Permanent staging label of the version Terraform writes (see below).
  initial_version_label = "rotor-initial"

  default_port = contains(["postgres", "aurora-postgresql"], var.engine) ? 5432 : 3306

  # The document AWS's rotation templates and rotor read. Optional keys are
  # left out rather than written as null; port stays a JSON number.
  secret_document = merge(
    {
      engine   = var.engine
      host     = var.host
      port     = var.port != null ? var.port : local.default_port
      username = var.username
      password = var.password
    },
    { for k, v in {
      dbname               = var.dbname
      ssl                  = var.ssl
      masterarn            = var.master_secret_arn
      dbInstanceIdentifier = var.db_instance_identifier
      dbClusterIdentifier  = var.db_cluster_identifier
    } : k => v if v != null },
  )

  rotor_tags = merge(
    var.rotation_strategy != null ? { "rotor:strategy" = var.rotation_strategy } : {},
    var.base_user_pin != null ? { "rotor:base-user" = var.base_user_pin } : {},
    var.scope_tag != null ? { (var.scope_tag.key) = var.scope_tag.value } : {},
  )
}

resource "aws_secretsmanager_secret" "this" {
  name                    = var.name
  description             = var.description
  kms_key_id              = var.kms_key_id
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = merge(var.tags, local.rotor_tags)

  lifecycle {
    # The rotator records each rotation's outcome in these tags
    # (rotation.OutcomeTagKeys), the base user it pinned at the first
    # alternating rotation (rotation.TagBaseUser; base_user_pin presets it
    # at creation, and only an administrator changes it afterwards: see
    # docs/security.md) and the notifier the last alert it sent
    # (alerting.TagLastAlert); Terraform must not remove them.
    ignore_changes = [
      tags["rotor:base-user"],
      tags_all["rotor:base-user"],
      tags["rotor:last-rotation"],
      tags["rotor:last-error-step"],
      tags["rotor:last-error"],
      tags["rotor:last-version"],
      tags["rotor:last-alert"],
      tags_all["rotor:last-rotation"],
      tags_all["rotor:last-error-step"],
      tags_all["rotor:last-error"],
      tags_all["rotor:last-version"],
      tags_all["rotor:last-alert"],
    ]

    precondition {
      condition     = var.rotation_strategy != "alternating-users" || var.master_secret_arn != null
      error_message = "The alternating-users strategy needs master_secret_arn: the admin secret that creates the clone user."
    }
    precondition {
      condition     = var.db_instance_identifier == null || var.db_cluster_identifier == null
      error_message = "Give at most one of db_instance_identifier and db_cluster_identifier: a master password belongs to an instance or to a cluster."
    }
  }
}

# The first value only. From the first rotation on the rotator owns the
# secret's value (and, with alternating users, its username): Terraform must
# never write the initial document back, so changes to it are ignored.
#
# The permanent label keeps this version labelled after rotations have taken
# AWSCURRENT and AWSPREVIOUS away from it. Secrets Manager prunes only
# unlabelled versions, so it is never deleted, the provider never drops it
# from the state, and no later apply re-creates it as AWSCURRENT with the
# initial password (README: "Terraform never undoes a rotation").
resource "aws_secretsmanager_secret_version" "initial" {
  secret_id      = aws_secretsmanager_secret.this.id
  secret_string  = jsonencode(local.secret_document)
  version_stages = ["AWSCURRENT", local.initial_version_label]

  lifecycle {
    ignore_changes = [secret_string, version_stages]
  }
}

resource "aws_secretsmanager_secret_rotation" "this" {
  count = var.enable_rotation ? 1 : 0

  secret_id           = aws_secretsmanager_secret.this.id
  rotation_lambda_arn = var.rotation_lambda_arn
  rotate_immediately  = var.rotate_immediately

  rotation_rules {
    schedule_expression      = var.schedule_expression
    automatically_after_days = var.automatically_after_days
    duration                 = var.duration
  }

  # Rotation starts from the initial version, so it must exist first.
  depends_on = [aws_secretsmanager_secret_version.initial]

  lifecycle {
    precondition {
      condition     = (var.schedule_expression == null) != (var.automatically_after_days == null)
      error_message = "Give exactly one of schedule_expression and automatically_after_days."
    }
    precondition {
      condition     = var.rotation_lambda_arn != null
      error_message = "enable_rotation needs rotation_lambda_arn (the rotator module's rotator_function_arn)."
    }
  }
}
