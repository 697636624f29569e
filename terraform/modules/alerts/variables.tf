# ---------------------------------------------------------------------------
# Naming and packages
# ---------------------------------------------------------------------------

variable "create" {
  description = "Create the module's resources. false creates nothing, needs no secret scope, and every output is null or empty (terraform-aws-modules' create flag)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Prefix for every resource name: <name>-alerts (topic), <name>-notifier and <name>-auditor (functions, roles, log groups), <name>-rotation-failures and <name>-audit (rules). Letters, digits, hyphens and underscores, at most 40 characters."
  type        = string
  default     = "rotor"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.name))
    error_message = "name must be 1-40 characters of letters, digits, '-' or '_'."
  }
}

variable "notifier_zip_path" {
  description = "Path to the notifier deployment package (a zip with a static `bootstrap`). null means dist/notifier.zip at the root of this repository, as `make build` writes it."
  type        = string
  default     = null
}

variable "auditor_zip_path" {
  description = "Path to the auditor deployment package. null means dist/auditor.zip at the root of this repository."
  type        = string
  default     = null
}

variable "s3_bucket" {
  description = "Deploy released artifacts from S3 instead of local zips: the bucket (in this region) holding the notifier and auditor release zips, e.g. rotor-notifier_v1.2.3_linux_arm64.zip uploaded from a GitHub release. null deploys the local zips (notifier_zip_path, auditor_zip_path). No Go toolchain is needed for this path."
  type        = string
  default     = null
}

variable "notifier_s3_key" {
  description = "Key of the notifier zip in s3_bucket (needs s3_bucket)."
  type        = string
  default     = null
}

variable "notifier_s3_object_version" {
  description = "Version ID of the notifier zip object, for a versioned bucket: a new version is what redeploys the code. null takes the latest."
  type        = string
  default     = null
}

variable "auditor_s3_key" {
  description = "Key of the auditor zip in s3_bucket (needs s3_bucket)."
  type        = string
  default     = null
}

variable "auditor_s3_object_version" {
  description = "Version ID of the auditor zip object, for a versioned bucket. null takes the latest."
  type        = string
  default     = null
}

variable "architecture" {
  description = "Instruction set of both functions: arm64 (the default; release zips ..._linux_arm64.zip, and what `make build` produces) or x86_64 (release zips ..._linux_amd64.zip)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

# ---------------------------------------------------------------------------
# Topic
# ---------------------------------------------------------------------------

variable "create_kms_key" {
  description = "Create a customer managed KMS key (rotation on) for the alert topic when kms_key_arn is null. CloudWatch alarms and EventBridge cannot publish to a topic under the AWS managed key alias/aws/sns, so without a customer managed key no alarm and no raw event delivery is created. false with kms_key_arn = null falls back to alias/aws/sns (plan warns)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of your own customer managed KMS key for the alert topic, instead of the module's (create_kms_key). Its policy must let cloudwatch.amazonaws.com, events.amazonaws.com and sns.amazonaws.com call kms:GenerateDataKey* and kms:Decrypt (README)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[^:]+:kms:[^:]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a key ARN (arn:aws:kms:<region>:<account>:key/<id>); aliases cannot be used in IAM policies."
  }
}

variable "email_subscriptions" {
  description = "E-mail addresses subscribed to the alert topic. Each must confirm the subscription from the message AWS sends."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.email_subscriptions : can(regex("^[^@\\s]+@[^@\\s]+$", e))])
    error_message = "email_subscriptions must be e-mail addresses."
  }
}

variable "enable_raw_event_delivery" {
  description = "Also send Secrets Manager's RotationFailed/RotationAbandoned events to the topic as raw JSON, straight from EventBridge, so they arrive even when the notifier is broken. Needs a customer managed key (create_kms_key or kms_key_arn)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------
# What the functions may read
# ---------------------------------------------------------------------------

variable "rotated_secret_arns" {
  description = "Full ARNs (with the 6-character suffix) of the secrets the notifier may describe and tag with rotor:last-alert and the auditor may list versions of: the rotator module's rotated_secret_arns. Combine with or replace by rotated_secret_tag. The functions never read a value (no GetSecretValue is granted)."
  type        = list(string)
  default     = []

  validation {
    # IAM matches secret ARNs literally: a partial ARN without the random
    # suffix would silently match nothing, and a pattern would reach
    # secrets outside rotor's scope.
    condition     = alltrue([for arn in var.rotated_secret_arns : can(regex("^arn:[^:]+:secretsmanager:[^:]+:[0-9]{12}:secret:[^*?]+-[A-Za-z0-9]{6}$", arn))])
    error_message = "rotated_secret_arns must be full secret ARNs ending in the 6-character suffix Secrets Manager appends (…:secret:name-AbCdEf), without wildcards."
  }
}

variable "rotated_secret_tag" {
  description = "Scope by tag instead of (or as well as) by ARN: the functions may describe, tag and list versions of any secret of this account and region carrying this tag key with this value. Give the rotator module's rotated_secret_tag (its output secret_scope_tag)."
  type = object({
    key   = string
    value = string
  })
  default = null

  validation {
    condition     = var.rotated_secret_tag == null || try(!startswith(lower(var.rotated_secret_tag.key), "aws:") && length(var.rotated_secret_tag.key) > 0 && length(var.rotated_secret_tag.value) > 0, false)
    error_message = "rotated_secret_tag needs a non-empty key (not starting with aws:) and a non-empty value."
  }

  validation {
    # The notifier writes rotor:last-alert and the rotator rotor:last-*;
    # scoping on one of those would let them widen their own scope.
    condition     = var.rotated_secret_tag == null || !startswith(try(var.rotated_secret_tag.key, ""), "rotor:last-")
    error_message = "rotated_secret_tag.key must not start with rotor:last-: those tags are written by rotor itself."
  }
}

variable "rotation_function_arns" {
  description = "Rotation functions the auditor may check with lambda:GetFunctionConfiguration. Empty means every function of this account and region. A secret whose function is outside this list is reported as an audit error, not as a finding."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.rotation_function_arns : can(regex("^arn:[^:]+:lambda:[^:]+:[0-9]{12}:function:.+$", a))])
    error_message = "rotation_function_arns must be Lambda function ARNs or ARN patterns."
  }
}

variable "secrets_manager_endpoint" {
  description = "Secrets Manager endpoint URL for both functions (e.g. a VPC endpoint's DNS name). null uses the SDK's default resolution."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------
# Schedule and detection
# ---------------------------------------------------------------------------

variable "audit_schedule_expression" {
  description = "EventBridge schedule of the auditor. Each run alerts again on every finding that is still open, so this is also the reminder interval."
  type        = string
  default     = "rate(1 day)"

  validation {
    condition     = can(regex("^(rate\\(.+\\)|cron\\(.+\\))$", var.audit_schedule_expression))
    error_message = "audit_schedule_expression must be rate(...) or cron(...)."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the auditor's EMF metrics (OverdueSecrets, StuckRotations, FailedRotations, MissingFunctions, SecretsAudited, AuditErrors)."
  type        = string
  default     = "Rotor"

  validation {
    condition     = length(var.metrics_namespace) > 0 && length(var.metrics_namespace) <= 255 && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters and must not start with AWS/."
  }
}

# ---------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------

variable "create_alarms" {
  description = "Create CloudWatch alarms (rotator, notifier and auditor errors; each auditor finding metric) that notify the topic. They need a customer managed key on the topic (the module's own by default, or kms_key_arn): CloudWatch cannot publish to a topic encrypted with alias/aws/sns. Without one, plan warns."
  type        = bool
  default     = true
}

variable "rotator_function_name" {
  description = "Name of the rotator function (the rotator module's rotator_function_name output) whose Errors metric is alarmed on. null: no rotator alarm."
  type        = string
  default     = null
}

variable "rotator_errors_threshold" {
  description = "Rotator invocation errors within 5 minutes that raise its alarm. Each failed step is one error, and Secrets Manager retries a failed rotation several times."
  type        = number
  default     = 1

  validation {
    condition     = var.rotator_errors_threshold >= 1 && floor(var.rotator_errors_threshold) == var.rotator_errors_threshold
    error_message = "rotator_errors_threshold must be a whole number of at least 1."
  }
}

# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------

variable "log_level" {
  description = "Application log level of both functions, in any case: trace, debug, info, warn, error or fatal. Set through Lambda's logging_config (application_log_level), which the functions read as AWS_LAMBDA_LOG_LEVEL; Lambda drops lines below it."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error", "fatal"], lower(var.log_level))
    error_message = "log_level must be trace, debug, info, warn, error or fatal."
  }
}

variable "cloudwatch_logs_retention_in_days" {
  description = "Retention of the functions' log groups, in days."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudwatch_logs_retention_in_days)
    error_message = "cloudwatch_logs_retention_in_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key ARN that encrypts the log groups. null: CloudWatch Logs' default encryption."
  type        = string
  default     = null
}

variable "auditor_timeout_seconds" {
  description = "Timeout of one audit run. It lists every secret and checks each rotation function once; raise it for tens of thousands of secrets."
  type        = number
  default     = 300

  validation {
    condition     = var.auditor_timeout_seconds >= 10 && var.auditor_timeout_seconds <= 900
    error_message = "auditor_timeout_seconds must be between 10 and 900."
  }
}

variable "role_permissions_boundary" {
  description = "Permissions boundary attached to both functions' roles, when the account requires one."
  type        = string
  default     = null
}

variable "notifier_role_name" {
  description = "Name of the notifier's IAM role. null: <name>-notifier-<region> (or role_name_prefix when given). IAM role names are global to the account, so the default carries the region."
  type        = string
  default     = null

  validation {
    condition     = var.notifier_role_name == null || can(regex("^[\\w+=,.@-]{1,64}$", coalesce(var.notifier_role_name, "-")))
    error_message = "notifier_role_name must be 1-64 characters of letters, digits and + = , . @ _ -."
  }
}

variable "auditor_role_name" {
  description = "Name of the auditor's IAM role. null: <name>-auditor-<region> (or role_name_prefix when given). IAM role names are global to the account, so the default carries the region."
  type        = string
  default     = null

  validation {
    condition     = var.auditor_role_name == null || can(regex("^[\\w+=,.@-]{1,64}$", coalesce(var.auditor_role_name, "-")))
    error_message = "auditor_role_name must be 1-64 characters of letters, digits and + = , . @ _ -."
  }
}

variable "role_name_prefix" {
  description = "Name prefix of the functions' IAM roles: each role is named <prefix><function>-<random suffix> (IAM's name_prefix). null uses the default names, <name>-<function>-<region>, which differ between regions, so one name deploys in several regions of an account without the global IAM role names colliding."
  type        = string
  default     = null

  validation {
    condition     = var.role_name_prefix == null || can(regex("^[\\w+=,.@-]{1,38}$", coalesce(var.role_name_prefix, "-")))
    error_message = "role_name_prefix must be 1-38 characters of letters, digits and + = , . @ _ - (IAM's name_prefix limit)."
  }
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------

variable "create_dashboard" {
  description = "Create a CloudWatch dashboard named <name>-<region>: rotations finished and step failures per strategy and step, rotation duration p50/p99, step duration p99, the auditor's counts, alerts published, and (with rotator_function_name) the rotator's database logins. It reads the rotator's metrics from metrics_namespace, so give the rotator the same namespace."
  type        = bool
  default     = true
}
