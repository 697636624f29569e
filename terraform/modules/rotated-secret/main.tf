locals {
  default_port = contains(["postgres", "aurora-postgresql"], var.engine) ? 5432 : 3306

  # The document AWS's rotation templates and rotor read. Optional keys are
  # left out rather than written as null; port stays a JSON number.
  secret_document = merge(
    {
      engine   = var.engine
      host     = var.host
      port     = var.port != null ? var.port : local.default_port
      username = var.username
    },
    { for k, v in {
      dbname               = var.dbname
      ssl                  = var.ssl
      masterarn            = var.master_secret_arn
      dbInstanceIdentifier = var.db_instance_identifier
      dbClusterIdentifier  = var.db_cluster_identifier
    } : k => v if v != null },
  )

  # Plan-time check that the rotation window fits its schedule (what
  # Secrets Manager refuses at apply): each window of duration hours,
  # starting at a scheduled hour, must end before the next scheduled hour
  # and by the end of the UTC day. Daily schedules start at 00:00 or at the
  # cron's hours; rate(N hours) every N hours.
  window_hours = try(tonumber(trimsuffix(var.rotation_rules.duration, "h")), null)
  expr         = try(trimspace(var.rotation_rules.schedule_expression), "")
  rate_hours   = try(tonumber(regex("^rate\\(([0-9]+) hours?\\)$", local.expr)[0]), null)
  # The cron's hour field: n, a-b, *, with /step, in a comma list.
  cron_hour_field = try(split(" ", regex("^cron\\((.*)\\)$", local.expr)[0])[1], null)
  cron_hours = local.cron_hour_field == null ? [] : distinct(flatten([
    for it in split(",", local.cron_hour_field) : try(range(
      startswith(it, "*") ? 0 : tonumber(regex("^[0-9]+", it)),
      (can(regex("^[0-9]+-", it)) ? tonumber(regex("^[0-9]+-([0-9]+)", it)[0]) : (startswith(it, "*") || strcontains(it, "/") ? 23 : tonumber(regex("^[0-9]+", it)))) + 1,
      can(regex("/", it)) ? tonumber(regex("/([0-9]+)$", it)[0]) : 1
    ), [])
  ]))
  window_fits = local.window_hours == null ? true : (
    local.rate_hours != null ? local.window_hours <= local.rate_hours : (
      length(local.cron_hours) == 0 ? true : alltrue([
        for h in local.cron_hours : h + local.window_hours <= min(concat([24], [for x in local.cron_hours : x if x > h])...)
      ])
    )
  )

  rotor_tags = merge(
    var.rotation_strategy != null ? { "rotor:strategy" = var.rotation_strategy } : {},
    var.base_user_pin != null ? { "rotor:base-user" = var.base_user_pin } : {},
    var.scope_tag != null ? { (var.scope_tag.key) = var.scope_tag.value } : {},
  )
}

resource "aws_secretsmanager_secret" "this" {
  count = var.create ? 1 : 0

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

# The first value only, through the write-only argument: the password
# reaches Secrets Manager and never the plan or the state. From the first
# rotation on the rotator owns the secret's value (and, with alternating
# users, its username); Terraform never writes the initial document again.
#
# Pruning: once two rotations have taken AWSCURRENT and AWSPREVIOUS away
# from this version, it has no label, and Secrets Manager may delete it. The
# provider then drops the resource from the state and the next plan shows it
# to be created again, as AWSCURRENT. README ("The pruning case") says what
# to do instead of applying that; initial_version_label keeps the version
# from ever being pruned.
resource "aws_secretsmanager_secret_version" "initial" {
  count = var.create ? 1 : 0

  secret_id                = aws_secretsmanager_secret.this[0].id
  secret_string_wo         = jsonencode(merge(local.secret_document, { password = var.password_wo }))
  secret_string_wo_version = var.password_wo_version
  version_stages           = concat(["AWSCURRENT"], var.initial_version_label == null ? [] : [var.initial_version_label])

  lifecycle {
    ignore_changes = [secret_string_wo_version, version_stages]
  }
}

resource "aws_secretsmanager_secret_rotation" "this" {
  count = var.create && var.enable_rotation ? 1 : 0

  secret_id           = aws_secretsmanager_secret.this[0].id
  rotation_lambda_arn = var.rotation_lambda_arn
  rotate_immediately  = var.rotate_immediately

  rotation_rules {
    schedule_expression      = try(var.rotation_rules.schedule_expression, null)
    automatically_after_days = try(var.rotation_rules.automatically_after_days, null)
    duration                 = try(var.rotation_rules.duration, null)
  }

  # Rotation starts from the initial version, so it must exist first.
  depends_on = [aws_secretsmanager_secret_version.initial]

  lifecycle {
    precondition {
      condition     = var.rotation_rules != null
      error_message = "enable_rotation needs rotation_rules, e.g. { automatically_after_days = 30, duration = \"4h\" }."
    }
    precondition {
      condition     = local.window_fits
      error_message = "rotation_rules.duration ${coalesce(try(var.rotation_rules.duration, null), "-")} does not fit the schedule ${coalesce(try(var.rotation_rules.schedule_expression, null), "-")}: the window may not reach into the next rotation window or past the end of the UTC day (Secrets Manager refuses it)."
    }
    precondition {
      condition     = var.rotation_lambda_arn != null
      error_message = "enable_rotation needs rotation_lambda_arn (the rotator module's rotator_function_arn)."
    }
  }
}

# Addresses before the create flag.
moved {
  from = aws_secretsmanager_secret.this
  to   = aws_secretsmanager_secret.this[0]
}

moved {
  from = aws_secretsmanager_secret_version.initial
  to   = aws_secretsmanager_secret_version.initial[0]
}

# The base-user pin (tag rotor:base-user, docs/security.md) is only as strong
# as the right to change it: whoever may write the secret's value, and often
# its tags, must not be able to move or remove it. This resource policy
# denies TagResource and UntagResource on that key to every principal but
# the ones named (the rotator's role, which writes the pin, and the
# administrators who move it when the database moves).
data "aws_iam_policy_document" "pin" {
  count = var.create && length(var.pin_writer_arns) > 0 ? 1 : 0

  statement {
    sid       = "OnlyNamedPrincipalsChangeTheBaseUserPin"
    effect    = "Deny"
    actions   = ["secretsmanager:TagResource", "secretsmanager:UntagResource"]
    resources = ["*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "aws:TagKeys"
      values   = ["rotor:base-user"]
    }

    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = var.pin_writer_arns
    }
  }
}

resource "aws_secretsmanager_secret_policy" "pin" {
  count = var.create && length(var.pin_writer_arns) > 0 ? 1 : 0

  secret_arn          = aws_secretsmanager_secret.this[0].arn
  policy              = data.aws_iam_policy_document.pin[0].json
  block_public_policy = true
}
