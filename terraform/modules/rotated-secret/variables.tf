# ---------------------------------------------------------------------------
# The secret
# ---------------------------------------------------------------------------

variable "name" {
  description = "Name of the secret, e.g. prod/app/postgres."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.name))
    error_message = "name must be 1-512 characters of letters, digits and / _ + = . @ -."
  }
}

variable "description" {
  description = "Description of the secret."
  type        = string
  default     = "Database credentials rotated by rotor"
}

variable "kms_key_id" {
  description = "ARN of a customer managed KMS key that encrypts the secret. null uses aws/secretsmanager. Give the same ARN to the rotator module's kms_key_arns."
  type        = string
  default     = null
}

variable "recovery_window_in_days" {
  description = "Days Secrets Manager keeps the secret restorable after deletion: 0 (delete at once) or 7-30."
  type        = number
  default     = 30

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 or from 7 to 30."
  }
}

variable "create" {
  description = "Create the secret, its initial version and its rotation. false creates nothing (terraform-aws-modules' create flag, for count-free conditional use)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for the secret, besides the rotor tags this module adds."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------
# The secret document (written once; the rotator owns it afterwards)
# ---------------------------------------------------------------------------

variable "engine" {
  description = "Database engine, the document's `engine`: postgres, aurora-postgresql, mysql, aurora-mysql or mariadb."
  type        = string
  nullable    = false

  validation {
    condition     = contains(["postgres", "aurora-postgresql", "mysql", "aurora-mysql", "mariadb"], var.engine)
    error_message = "engine must be postgres, aurora-postgresql, mysql, aurora-mysql or mariadb."
  }
}

variable "host" {
  description = "Database host name, the document's `host`. With verify-full TLS it must match the server certificate."
  type        = string
  nullable    = false

  validation {
    condition     = length(trimspace(var.host)) > 0
    error_message = "host must not be empty."
  }
}

variable "port" {
  description = "Database port, the document's `port`. null means the engine's default (5432 for PostgreSQL engines, 3306 for MySQL and MariaDB)."
  type        = number
  default     = null

  validation {
    condition     = var.port == null || try(floor(var.port) == var.port && var.port >= 1 && var.port <= 65535, false)
    error_message = "port must be a whole number from 1 to 65535."
  }
}

variable "username" {
  description = "Database user whose password is rotated, the document's `username`. With alternating users this is the original user; the rotator alternates it with <username>_clone."
  type        = string
  nullable    = false

  validation {
    condition     = length(var.username) > 0 && length(var.username) <= 63
    error_message = "username must be 1-63 characters (PostgreSQL's limit; MySQL's is lower and is checked by the rotator)."
  }
}

variable "password_wo" {
  description = "The user's current password, the document's first `password`, written through the write-only argument secret_string_wo: it reaches Secrets Manager but never the plan or the state. Ephemeral, so it may come from an ephemeral resource or TF_VAR_password_wo. It is written once, when the initial version is created (the first rotation logs in with it); write-only values are not compared, so later applies never write it again."
  type        = string
  sensitive   = true
  ephemeral   = true
  nullable    = false
}

variable "password_wo_version" {
  description = "Version of password_wo (secret_string_wo_version). Write-only values are not compared between applies; the initial version is written once, when created, whatever this says, and the rotator owns the value afterwards."
  type        = number
  default     = 1
}

variable "initial_version_label" {
  description = "A permanent staging label for the initial version (formerly always rotor-initial), or null for none. A label keeps Secrets Manager from ever pruning that version, at the price of keeping the initial (by then rotated-away) password readable as long as the secret lives. Off by default: README, \"Terraform never undoes a rotation\"."
  type        = string
  default     = null

  validation {
    condition     = var.initial_version_label == null || try(!contains(["AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"], var.initial_version_label) && can(regex("^[A-Za-z0-9_.-]{1,256}$", var.initial_version_label)), false)
    error_message = "initial_version_label must be a label of your own (not AWSCURRENT, AWSPENDING or AWSPREVIOUS): 1-256 letters, digits, _ . -."
  }
}

variable "dbname" {
  description = "Database to connect to, the document's `dbname`. null leaves it out (PostgreSQL then uses postgres)."
  type        = string
  default     = null
}

variable "ssl" {
  description = "Per-secret TLS mode, the document's `ssl`: verify-full, require or disable. null leaves it out, so the rotator's db_tls applies."
  type        = string
  default     = null

  validation {
    condition     = var.ssl == null || contains(["verify-full", "require", "disable"], coalesce(var.ssl, "verify-full"))
    error_message = "ssl must be verify-full, require or disable."
  }
}

variable "master_secret_arn" {
  description = "Alternating users: full ARN of the admin secret that creates and re-passwords the clone, written as the document's `masterarn`. An RDS-managed master secret works (aws_db_instance.x.master_user_secret[0].secret_arn). Give it to the rotator module's master_secret_arns too."
  type        = string
  default     = null

  validation {
    condition     = var.master_secret_arn == null || can(regex("^arn:[^:]+:secretsmanager:[^:]+:[0-9]{12}:secret:.+-[A-Za-z0-9]{6}$", coalesce(var.master_secret_arn, "-")))
    error_message = "master_secret_arn must be a full secret ARN ending in the 6-character suffix."
  }
}

# ---------------------------------------------------------------------------
# rotor tags
# ---------------------------------------------------------------------------

variable "rotation_strategy" {
  description = "Per-secret strategy, written as the `rotor:strategy` tag, which overrides the rotator's ROTATION_STRATEGY. null leaves the tag out."
  type        = string
  default     = null

  validation {
    condition     = var.rotation_strategy == null || contains(["single-user", "alternating-users", "rds-master"], coalesce(var.rotation_strategy, "single-user"))
    error_message = "rotation_strategy must be single-user, alternating-users or rds-master."
  }
}

variable "db_instance_identifier" {
  description = "rds-master: the RDS DB instance whose master password the secret holds, written as the document's `dbInstanceIdentifier` (as AWS's templates read it). null leaves the key out; rds-master then finds the instance or cluster by host and port."
  type        = string
  default     = null
}

variable "db_cluster_identifier" {
  description = "rds-master: the Aurora DB cluster whose master password the secret holds, written as the document's `dbClusterIdentifier`. Give at most one of db_instance_identifier and db_cluster_identifier."
  type        = string
  default     = null
}

variable "scope_tag" {
  description = "The tag that puts the secret in the rotor functions' IAM scope: the rotator module's output secret_scope_tag. null when the rotator is scoped by ARN."
  type = object({
    key   = string
    value = string
  })
  default = null
}

# ---------------------------------------------------------------------------
# Rotation
# ---------------------------------------------------------------------------

variable "enable_rotation" {
  description = "Configure rotation with rotation_lambda_arn. false stores the secret only (e.g. an admin secret rotated elsewhere)."
  type        = bool
  default     = true
}

variable "rotation_lambda_arn" {
  description = "ARN of the rotator function: the rotator module's output rotator_function_arn (it is known only once Secrets Manager may invoke the function). Required when enable_rotation is true."
  type        = string
  default     = null
}

variable "rotation_rules" {
  description = "When the secret rotates (the secret's RotationRules): exactly one of automatically_after_days (1-1000) and schedule_expression (rate(N hours|days) or cron(0 H DoM Mon DoW *)), and optionally duration, the window in whole hours (1h-24h) inside which Secrets Manager starts the rotation. The window must fit its schedule: it may not reach into the next window or past the end of the UTC day (checked at plan time, as AWS refuses it at apply)."
  type = object({
    automatically_after_days = optional(number)
    duration                 = optional(string)
    schedule_expression      = optional(string)
  })
  default = null

  validation {
    condition     = var.rotation_rules == null || try((var.rotation_rules.automatically_after_days == null) != (var.rotation_rules.schedule_expression == null), false)
    error_message = "rotation_rules needs exactly one of automatically_after_days and schedule_expression."
  }

  validation {
    condition     = try(var.rotation_rules.automatically_after_days == null, true) || try(floor(var.rotation_rules.automatically_after_days) == var.rotation_rules.automatically_after_days && var.rotation_rules.automatically_after_days >= 1 && var.rotation_rules.automatically_after_days <= 1000, false)
    error_message = "rotation_rules.automatically_after_days must be a whole number from 1 to 1000."
  }

  validation {
    condition     = try(var.rotation_rules.schedule_expression == null, true) || can(regex("^(rate\\([0-9]+ (hour|hours|day|days)\\)|cron\\(0 [^ ]+ [^ ]+ [^ ]+ [^ ]+ \\*\\))$", var.rotation_rules.schedule_expression))
    error_message = "rotation_rules.schedule_expression must be rate(N hours|days) or cron(0 H DoM Mon DoW *)."
  }

  validation {
    condition     = try(var.rotation_rules.duration == null, true) || try(can(regex("^[0-9]+h$", var.rotation_rules.duration)) && tonumber(trimsuffix(var.rotation_rules.duration, "h")) >= 1 && tonumber(trimsuffix(var.rotation_rules.duration, "h")) <= 24, false)
    error_message = "rotation_rules.duration must be whole hours from 1h to 24h, e.g. 3h."
  }
}

variable "rotate_immediately" {
  description = "Rotate as soon as rotation is configured (asynchronously: a failure does not fail the apply). Set false when the first rotation is run through rotatenow with wait=true instead."
  type        = bool
  default     = true
}

variable "base_user_pin" {
  description = "alternating-users: the base user this secret may rotate, as \"user@host:port\" with the host and port the admin secret logs in to (the `rotor:base-user` tag; `rotor check` prints the value). Set at creation only; null lets the first rotation pin what the document names then. See docs/security.md."
  type        = string
  default     = null

  validation {
    condition     = var.base_user_pin == null || can(regex("^([^@]+@[^:]+:[0-9]+|sha256:[0-9a-f]{64})$", var.base_user_pin))
    error_message = "base_user_pin must be \"user@host:port\" (or the sha256: form rotor check prints for names a tag cannot hold)."
  }
}

variable "pin_writer_arns" {
  description = "alternating-users: IAM principal ARNs (wildcards allowed, as in aws:PrincipalArn) that may change the `rotor:base-user` tag: the rotator's role (module rotator's rotator_role_arn), which writes the pin at the first rotation, and the administrators who move it. When set, a resource policy on the secret denies TagResource and UntagResource on that key to everyone else, so whoever may write the secret cannot re-point the admin. Empty attaches no policy."
  type        = list(string)
  default     = []
}
