# ---------------------------------------------------------------------------
# Naming and packages
# ---------------------------------------------------------------------------

variable "create" {
  description = "Create the module's resources. false creates nothing (terraform-aws-modules' create flag)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Prefix for every resource name: the functions are <name>-rotator and <name>-rotatenow. Letters, digits, hyphens and underscores, at most 40 characters so the longest derived name fits Lambda's and IAM's 64-character limits."
  type        = string
  default     = "rotor"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.name))
    error_message = "name must be 1-40 characters of letters, digits, '-' or '_'."
  }
}

variable "rotator_zip_path" {
  description = "Path to the rotator deployment package (a zip with a static `bootstrap`). null means dist/rotator.zip at the root of this repository, as `make build` writes it; set it when the module is used from a registry or git source."
  type        = string
  default     = null
}

variable "rotatenow_zip_path" {
  description = "Path to the rotatenow deployment package. null means dist/rotatenow.zip at the root of this repository."
  type        = string
  default     = null
}

variable "s3_bucket" {
  description = "Deploy released artifacts from S3 instead of local zips: the bucket (in this region) holding the rotator and rotatenow release zips, e.g. rotor-rotator_v1.2.3_linux_arm64.zip uploaded from a GitHub release. null deploys the local zips (rotator_zip_path, rotatenow_zip_path). No Go toolchain is needed for this path."
  type        = string
  default     = null
}

variable "rotator_s3_key" {
  description = "Key of the rotator zip in s3_bucket (needs s3_bucket)."
  type        = string
  default     = null
}

variable "rotator_s3_object_version" {
  description = "Version ID of the rotator zip object, for a versioned bucket: a new version is what redeploys the code. null takes the latest."
  type        = string
  default     = null
}

variable "rotatenow_s3_key" {
  description = "Key of the rotatenow zip in s3_bucket (needs s3_bucket)."
  type        = string
  default     = null
}

variable "rotatenow_s3_object_version" {
  description = "Version ID of the rotatenow zip object, for a versioned bucket. null takes the latest."
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

variable "layers" {
  description = "Lambda layer version ARNs for the rotator, e.g. one holding the RDS CA bundle that db_ca_bundle points at (layers unpack under /opt)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.layers) <= 5
    error_message = "Lambda accepts at most 5 layers per function."
  }
}

# ---------------------------------------------------------------------------
# Which secrets the functions may touch
# ---------------------------------------------------------------------------

variable "rotated_secret_arns" {
  description = "Full ARNs (with the 6-character suffix) of the secrets the rotator rotates and rotatenow may start. Combine with or replace by rotated_secret_tag."
  type        = list(string)
  default     = []

  validation {
    # IAM matches secret ARNs literally: a partial ARN without the random
    # suffix would silently match nothing.
    condition     = alltrue([for arn in var.rotated_secret_arns : can(regex("^arn:[^:]+:secretsmanager:[^:]+:[0-9]{12}:secret:.+-[A-Za-z0-9]{6}$", arn))])
    error_message = "rotated_secret_arns must be full secret ARNs ending in the 6-character suffix Secrets Manager appends (…:secret:name-AbCdEf)."
  }
}

variable "rotated_secret_tag" {
  description = "Scope by tag instead of (or as well as) by ARN: the functions may act on any secret of this account and region that carries this tag key with this value. The rotated-secret module adds it when given the same object (output secret_scope_tag)."
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
    # The rotator itself may write these keys; scoping on one of them would
    # let it grant itself access to any secret.
    condition     = var.rotated_secret_tag == null || !startswith(try(var.rotated_secret_tag.key, ""), "rotor:last-")
    error_message = "rotated_secret_tag.key must not start with rotor:last-: those are the outcome tags the rotator writes itself."
  }
}

variable "master_secret_arns" {
  description = "Full ARNs of the admin (master) secrets named by `masterarn` in alternating-users secrets, including RDS-managed master secrets. The rotator may only read them."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.master_secret_arns : can(regex("^arn:[^:]+:secretsmanager:[^:]+:[0-9]{12}:secret:.+-[A-Za-z0-9]{6}$", arn))])
    error_message = "master_secret_arns must be full secret ARNs ending in the 6-character suffix."
  }
}

variable "kms_key_arns" {
  description = "ARNs of customer managed KMS keys that encrypt the rotated or master secrets. Not needed for the AWS managed key aws/secretsmanager (RDS-managed master secrets use it by default)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.kms_key_arns : can(regex("^arn:[^:]+:kms:[^:]+:[0-9]{12}:key/.+$", arn))])
    error_message = "kms_key_arns must be key ARNs (arn:…:kms:region:account:key/id); aliases are not matched by IAM."
  }
}

variable "rds_resource_arns" {
  description = "ARNs of the RDS DB instances (arn:…:db:name) and clusters (arn:…:cluster:name) whose RDS-managed master secrets the rotator reads; it describes them to learn host, port and engine. Empty grants no RDS access."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.rds_resource_arns : can(regex("^arn:[^:]+:rds:[^:]+:[0-9]{12}:(db|cluster):.+$", arn))])
    error_message = "rds_resource_arns must be RDS DB instance or cluster ARNs (arn:…:rds:region:account:db:name or …:cluster:name)."
  }
}

variable "rds_master_arns" {
  description = "rds-master: ARNs of the RDS DB instances (arn:…:db:name) and clusters (arn:…:cluster:name) whose master passwords the rotator may change (rds:ModifyDBInstance / ModifyDBCluster) and watch (Describe*). Whoever may write an rds-master secret chooses which of these gets its master password reset, so list only the masters rotor rotates. Name the instance or cluster in each secret (rotated-secret's db_instance_identifier / db_cluster_identifier): finding it by endpoint lists every instance, which these ARNs do not allow. Empty grants nothing."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.rds_master_arns : can(regex("^arn:[^:]+:rds:[^:]+:[0-9]{12}:(db|cluster):.+$", arn))])
    error_message = "rds_master_arns must be RDS DB instance or cluster ARNs (arn:…:rds:region:account:db:name or …:cluster:name)."
  }
}

# ---------------------------------------------------------------------------
# Rotator settings (environment; names from internal/config.FunctionEnv)
# ---------------------------------------------------------------------------

variable "rotation_strategy" {
  description = "Default strategy (ROTATION_STRATEGY). A secret's `rotor:strategy` tag overrides it for that secret."
  type        = string
  default     = "single-user"

  validation {
    condition     = contains(["single-user", "alternating-users", "rds-master"], var.rotation_strategy)
    error_message = "rotation_strategy must be single-user, alternating-users or rds-master."
  }
}

variable "password_length" {
  description = "Length of generated passwords (PASSWORD_LENGTH). 16-128: below 16 a machine-generated password gives away strength for nothing, as nobody types it; above 128 RDS itself refuses master passwords and some client libraries truncate, and 128 characters already carry far more entropy than any attack can use."
  type        = number
  default     = 32

  validation {
    condition     = floor(var.password_length) == var.password_length && var.password_length >= 16 && var.password_length <= 128
    error_message = "password_length must be a whole number from 16 to 128."
  }
}

variable "exclude_characters" {
  description = "Characters never used in generated passwords (EXCLUDE_CHARACTERS). null keeps the engine's default (PostgreSQL :/@\"'\\, MySQL and MariaDB /@\"'\\)."
  type        = string
  default     = null
}

variable "exclude_numbers" {
  description = "Leave digits out of generated passwords (EXCLUDE_NUMBERS)."
  type        = bool
  default     = false
}

variable "exclude_punctuation" {
  description = "Leave punctuation out of generated passwords (EXCLUDE_PUNCTUATION)."
  type        = bool
  default     = false
}

variable "exclude_uppercase" {
  description = "Leave upper-case letters out of generated passwords (EXCLUDE_UPPERCASE)."
  type        = bool
  default     = false
}

variable "exclude_lowercase" {
  description = "Leave lower-case letters out of generated passwords (EXCLUDE_LOWERCASE)."
  type        = bool
  default     = false
}

variable "require_each_included_type" {
  description = "Require at least one character of every included type (REQUIRE_EACH_INCLUDED_TYPE)."
  type        = bool
  default     = true
}

variable "db_tls" {
  description = "TLS mode for database connections (DB_TLS): verify-full checks the chain and the host name, require encrypts without checking, disable sends everything in clear. A secret's `ssl` key overrides it. rotor never falls back to a weaker mode."
  type        = string
  default     = "verify-full"

  validation {
    condition     = contains(["verify-full", "require", "disable"], var.db_tls)
    error_message = "db_tls must be verify-full, require or disable."
  }
}

variable "db_ca_bundle" {
  description = "Absolute path, inside the function, of a PEM bundle that verifies the database's certificate (DB_CA_BUNDLE), e.g. /opt/rds-global-bundle.pem from a layer. null uses the system roots, which do not include the RDS CAs."
  type        = string
  default     = null

  validation {
    condition     = var.db_ca_bundle == null || can(regex("^/", var.db_ca_bundle))
    error_message = "db_ca_bundle must be an absolute path (the package unpacks under /var/task, layers under /opt)."
  }
}

variable "db_connect_timeout_seconds" {
  description = "Bound on one database connection attempt, TLS and login included (DB_CONNECT_TIMEOUT, passed as a Go duration such as 5s). Must stay well under rotator_timeout_seconds."
  type        = number
  default     = 5

  validation {
    condition     = floor(var.db_connect_timeout_seconds) == var.db_connect_timeout_seconds && var.db_connect_timeout_seconds >= 1 && var.db_connect_timeout_seconds <= 60
    error_message = "db_connect_timeout_seconds must be a whole number from 1 to 60."
  }
}

variable "previous_user_sessions" {
  description = "What the rotator does when the user being re-passworded still has open sessions (PREVIOUS_USER_SESSIONS): warn logs and goes on, fail stops the rotation."
  type        = string
  default     = "warn"

  validation {
    condition     = contains(["warn", "fail"], var.previous_user_sessions)
    error_message = "previous_user_sessions must be warn or fail."
  }
}

variable "log_level" {
  description = "Application log level of both functions, in any case: trace, debug, info, warn, error or fatal. Set through Lambda's logging_config (application_log_level), which the functions read as AWS_LAMBDA_LOG_LEVEL; Lambda drops lines below it."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error", "fatal"], lower(var.log_level))
    error_message = "log_level must be trace, debug, info, warn, error or fatal."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch metrics namespace the rotator writes (embedded metric format) into (METRICS_NAMESPACE). null keeps the function's default."
  type        = string
  default     = null

  validation {
    condition     = var.metrics_namespace == null || can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace))
    error_message = "metrics_namespace must be 1-255 characters of letters, digits and . _ / # : -; it may not be empty."
  }
}

variable "secrets_manager_endpoint" {
  description = "Secrets Manager endpoint URL for the rotator (SECRETS_MANAGER_ENDPOINT), e.g. a VPC endpoint's DNS name. null means the regional default, or the endpoint this module creates when its private DNS is disabled."
  type        = string
  default     = null

  validation {
    condition     = var.secrets_manager_endpoint == null || can(regex("^https://", var.secrets_manager_endpoint))
    error_message = "secrets_manager_endpoint must be an https:// URL."
  }
}

# ---------------------------------------------------------------------------
# rotatenow settings
# ---------------------------------------------------------------------------

variable "rotatenow_concurrency" {
  description = "Default number of secrets rotatenow rotates at once (ROTATE_NOW_CONCURRENCY); a request's `concurrency` overrides it. Each rotation costs a handful of Secrets Manager writes, far below the 50/s account quota."
  type        = number
  default     = 4

  validation {
    condition     = floor(var.rotatenow_concurrency) == var.rotatenow_concurrency && var.rotatenow_concurrency >= 1 && var.rotatenow_concurrency <= 32
    error_message = "rotatenow_concurrency must be a whole number from 1 to 32."
  }
}

variable "rotatenow_writes_per_second" {
  description = "rotatenow's write budget in this region (ROTATE_NOW_WRITES_PER_SECOND); a request's `writesPerSecond` overrides it. A rotation makes 2 of the PutSecretValue + UpdateSecretVersionStage calls Secrets Manager allows 50 of per second per region, so rotations start at most at this / 2 per second and no rolling second holds more writes than this (docs/scale.md); halved on throttling. The default, 80% of the quota, leaves room for scheduled rotations and other writers."
  type        = number
  default     = 40

  validation {
    condition     = var.rotatenow_writes_per_second >= 2 && var.rotatenow_writes_per_second <= 50
    error_message = "rotatenow_writes_per_second must be from 2 (one rotation's writes) to 50 (the quota)."
  }
}

variable "rotatenow_reserved_concurrency" {
  description = "Reserved concurrent executions of rotatenow. Each invocation paces against its own write budget, so the default 1 keeps two invocations from asking the region's write quota for twice the budget: a second invocation while one runs is refused (TooManyRequestsException)."
  type        = number
  default     = 1

  validation {
    condition     = floor(var.rotatenow_reserved_concurrency) == var.rotatenow_reserved_concurrency && var.rotatenow_reserved_concurrency >= 1
    error_message = "rotatenow_reserved_concurrency must be a whole number >= 1."
  }
}

variable "rotatenow_wait_timeout_seconds" {
  description = "Default time rotatenow waits for the rotations it started (ROTATE_NOW_TIMEOUT_SECONDS); a request's `timeoutSeconds` overrides it. The function's own timeout is this plus 30 seconds to report, so at most 870 (Lambda's limit is 900)."
  type        = number
  default     = 600

  validation {
    condition     = floor(var.rotatenow_wait_timeout_seconds) == var.rotatenow_wait_timeout_seconds && var.rotatenow_wait_timeout_seconds >= 30 && var.rotatenow_wait_timeout_seconds <= 870
    error_message = "rotatenow_wait_timeout_seconds must be a whole number from 30 to 870."
  }
}

# ---------------------------------------------------------------------------
# Function sizing
# ---------------------------------------------------------------------------

variable "rotator_timeout_seconds" {
  description = "Timeout of one rotator invocation (one rotation step). A step makes a few API calls and at most a few database connections; 90 s leaves room for slow connects and retries."
  type        = number
  default     = 90

  validation {
    condition     = floor(var.rotator_timeout_seconds) == var.rotator_timeout_seconds && var.rotator_timeout_seconds >= 10 && var.rotator_timeout_seconds <= 900
    error_message = "rotator_timeout_seconds must be a whole number from 10 to 900."
  }
}

variable "memory_size" {
  description = "Memory of both functions in MB. Lambda gives CPU in proportion; 256 MB keeps TLS handshakes and SCRAM hashing quick at a negligible cost for a few invocations a day."
  type        = number
  default     = 256

  validation {
    condition     = floor(var.memory_size) == var.memory_size && var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be a whole number from 128 to 10240."
  }
}

variable "rotator_reserved_concurrency" {
  description = "Reserved concurrent executions of the rotator: guarantees rotations can run when the account's concurrency is exhausted, and bounds the database connections rotor opens at once. null reserves none."
  type        = number
  default     = null

  validation {
    condition     = var.rotator_reserved_concurrency == null || try(floor(var.rotator_reserved_concurrency) == var.rotator_reserved_concurrency && var.rotator_reserved_concurrency >= 1, false)
    error_message = "rotator_reserved_concurrency must be null or a whole number >= 1 (0 would stop every rotation)."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of a permissions boundary policy attached to both functions' IAM roles, where the organisation requires one."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------

variable "cloudwatch_logs_retention_in_days" {
  description = "Retention of the functions' CloudWatch log groups, in days (one of the values CloudWatch Logs accepts; 0 keeps logs forever)."
  type        = number
  default     = 90

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudwatch_logs_retention_in_days)
    error_message = "cloudwatch_logs_retention_in_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  description = "ARN of a KMS key that encrypts the log groups. Its key policy must allow the CloudWatch Logs service principal of this region. null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------

variable "enable_vpc" {
  description = "Run the rotator inside a VPC (needed when the database is not publicly reachable). The module then creates a security group for it. rotatenow never runs in the VPC: it only calls Secrets Manager."
  type        = bool
  default     = false
}

variable "vpc_id" {
  description = "VPC of the rotator when enable_vpc is true."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Private subnets for the rotator (and the Secrets Manager endpoint, when created) when enable_vpc is true. They need a route to Secrets Manager: a NAT gateway or the endpoint."
  type        = list(string)
  default     = []
}

variable "database_ports" {
  description = "TCP ports the rotator's security group may reach the databases on."
  type        = list(number)
  default     = [5432]

  validation {
    condition     = length(var.database_ports) > 0 && alltrue([for p in var.database_ports : floor(p) == p && p >= 1 && p <= 65535])
    error_message = "database_ports must hold at least one port from 1 to 65535."
  }
}

variable "database_security_group_ids" {
  description = "Security groups of the databases: the rotator may reach them on database_ports. Their ingress rules (from output security_group_id) are the caller's to add."
  type        = list(string)
  default     = []
}

variable "database_cidr_blocks" {
  description = "IPv4 CIDR blocks of the databases, for databases not addressable by security group (e.g. across a peering). The rotator may reach them on database_ports."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.database_cidr_blocks : can(cidrnetmask(c))])
    error_message = "database_cidr_blocks must be IPv4 CIDR blocks."
  }
}

variable "https_egress_cidr_blocks" {
  description = "IPv4 CIDR blocks the rotator may reach on 443 for AWS APIs (Secrets Manager without an endpoint, RDS, through a NAT gateway). Set [] when VPC endpoints serve every API it calls; the endpoint this module creates is always allowed."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.https_egress_cidr_blocks : can(cidrnetmask(c))])
    error_message = "https_egress_cidr_blocks must be IPv4 CIDR blocks."
  }
}

variable "create_secretsmanager_endpoint" {
  description = "Create a Secrets Manager interface VPC endpoint in subnet_ids, with a security group that admits 443 from the rotator only. Needs enable_vpc. Do not enable when the VPC already has one with private DNS."
  type        = bool
  default     = false
}

variable "secretsmanager_endpoint_private_dns_enabled" {
  description = "Give the created endpoint private DNS, so the regional Secrets Manager name resolves to it for the whole VPC (needs the VPC's DNS support and hostnames). When false the rotator is pointed at the endpoint's own DNS name through SECRETS_MANAGER_ENDPOINT."
  type        = bool
  default     = true
}

variable "rotator_role_name" {
  description = "Name of the rotator's IAM role. null: <name>-rotator-<region> (or role_name_prefix when given). IAM role names are global to the account, so the default carries the region."
  type        = string
  default     = null

  validation {
    condition     = var.rotator_role_name == null || can(regex("^[\\w+=,.@-]{1,64}$", coalesce(var.rotator_role_name, "-")))
    error_message = "rotator_role_name must be 1-64 characters of letters, digits and + = , . @ _ -."
  }
}

variable "rotatenow_role_name" {
  description = "Name of the rotatenow's IAM role. null: <name>-rotatenow-<region> (or role_name_prefix when given). IAM role names are global to the account, so the default carries the region."
  type        = string
  default     = null

  validation {
    condition     = var.rotatenow_role_name == null || can(regex("^[\\w+=,.@-]{1,64}$", coalesce(var.rotatenow_role_name, "-")))
    error_message = "rotatenow_role_name must be 1-64 characters of letters, digits and + = , . @ _ -."
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
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}
