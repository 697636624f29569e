# Inputs of the leases module: the role definitions first, then packaging,
# database settings, the schedule, IAM, logs and network, as in the
# rotator module.

variable "create" {
  description = "Create the module's resources. false creates nothing (terraform-aws-modules' create flag)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Prefix for every resource name: the functions are <name>-issuer and <name>-reaper (the rotor CLI's `rotor lease` invokes rotor-issuer by default). Letters, digits, hyphens and underscores, at most 40 characters so the longest derived name fits Lambda's and IAM's 64-character limits."
  type        = string
  default     = "rotor"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.name))
    error_message = "name must be 1-40 characters of letters, digits, '-' or '_'."
  }
}

variable "roles" {
  description = <<-EOT
    Role definitions the issuer grants leases of (LEASE_ROLES, docs/leases.md). Each: name (what callers ask for, ^[a-z][a-z0-9_]{0,23}$, unique),
    admin_secret_arn (full ARN of the secret the functions log in with; the only secrets they may read), group_role (a NOLOGIN role the
    database's operators created and own, holding the grants; each lease user is made a member), default_ttl_seconds and max_ttl_seconds
    (1 <= default <= max <= 604800), engine (postgres, aurora-postgresql, mariadb, mysql or aurora-mysql: the admin secret's family).
    No SQL: what a lease may do is the group role's grants.
  EOT
  type = list(object({
    name                = string
    admin_secret_arn    = string
    group_role          = string
    default_ttl_seconds = number
    max_ttl_seconds     = number
    engine              = string
  }))

  validation {
    condition     = length(var.roles) > 0
    error_message = "roles must hold at least one role definition."
  }

  validation {
    condition     = alltrue([for r in var.roles : can(regex("^[a-z][a-z0-9_]{0,23}$", r.name))])
    error_message = "Every role definition's name must match ^[a-z][a-z0-9_]{0,23}$ (events.LeaseRoleNamePattern): it becomes part of database user names."
  }

  validation {
    condition     = length(distinct([for r in var.roles : r.name])) == length(var.roles)
    error_message = "Role definition names must be unique."
  }

  validation {
    condition     = alltrue([for r in var.roles : can(regex("^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", r.admin_secret_arn))])
    error_message = "Every admin_secret_arn must be a full Secrets Manager secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)."
  }

  validation {
    condition     = alltrue([for r in var.roles : length(r.group_role) > 0])
    error_message = "Every group_role must name the operator-owned role that holds the grants."
  }

  validation {
    condition     = alltrue([for r in var.roles : !contains(["mysql", "aurora-mysql"], r.engine) || length(r.name) <= 9])
    error_message = "A role definition of engine mysql or aurora-mysql may have a name of at most 9 characters: lease user names (v_<name>_<7>_<12>) must fit MySQL's 32."
  }

  validation {
    condition = alltrue([for r in var.roles :
      floor(r.default_ttl_seconds) == r.default_ttl_seconds && floor(r.max_ttl_seconds) == r.max_ttl_seconds &&
      r.default_ttl_seconds >= 1 && r.default_ttl_seconds <= r.max_ttl_seconds && r.max_ttl_seconds <= 604800
    ])
    error_message = "Every role definition needs whole seconds with 1 <= default_ttl_seconds <= max_ttl_seconds <= 604800 (7 days, events.MaxLeaseTTLSeconds)."
  }

  validation {
    condition     = alltrue([for r in var.roles : contains(["postgres", "aurora-postgresql", "mariadb", "mysql", "aurora-mysql"], r.engine)])
    error_message = "Every engine must be postgres, aurora-postgresql, mariadb, mysql or aurora-mysql."
  }
}

variable "issuer_zip_path" {
  description = "Path of the issuer's deployment package (`make build` writes dist/issuer.zip). null uses this repository's dist/issuer.zip. Ignored when s3_bucket is set."
  type        = string
  default     = null
}

variable "reaper_zip_path" {
  description = "Path of the reaper's deployment package (`make build` writes dist/reaper.zip). null uses this repository's dist/reaper.zip. Ignored when s3_bucket is set."
  type        = string
  default     = null
}

variable "s3_bucket" {
  description = "Deploy released artifacts from S3 instead of local zips: the bucket (in this region) holding the issuer and reaper release zips. null deploys the local zips (issuer_zip_path, reaper_zip_path)."
  type        = string
  default     = null
}

variable "issuer_s3_key" {
  description = "Key of the issuer release zip in s3_bucket, e.g. rotor-issuer_v1.2.3_linux_arm64.zip."
  type        = string
  default     = null
}

variable "issuer_s3_object_version" {
  description = "Object version of the issuer zip, for a versioned bucket; a new version redeploys the code."
  type        = string
  default     = null
}

variable "reaper_s3_key" {
  description = "Key of the reaper release zip in s3_bucket, e.g. rotor-reaper_v1.2.3_linux_arm64.zip."
  type        = string
  default     = null
}

variable "reaper_s3_object_version" {
  description = "Object version of the reaper zip, for a versioned bucket; a new version redeploys the code."
  type        = string
  default     = null
}

variable "architecture" {
  description = "Instruction set of the packages: arm64 (the default; `make build`) or x86_64 (`make build ARCH=amd64`, release zips ..._linux_amd64.zip)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "kms_key_arns" {
  description = "Customer managed KMS keys of the admin secrets, if any: the functions may decrypt with them through Secrets Manager only (kms:ViaService). Secrets under aws/secretsmanager need nothing here."
  type        = list(string)
  default     = []
}

variable "rds_resource_arns" {
  description = "ARNs of the RDS instances and clusters behind RDS-managed admin secrets (manage_master_user_password), whose document has no host: the functions describe them for the endpoint (and DescribeSecret the admin secrets for their RDS tags). [] for admin secrets that name their host."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.rds_resource_arns : can(regex("^arn:[a-z-]+:rds:[a-z0-9-]+:[0-9]{12}:(db|cluster):.+$", a))])
    error_message = "rds_resource_arns must be RDS instance (…:db:<id>) or cluster (…:cluster:<id>) ARNs."
  }
}

variable "db_tls" {
  description = "TLS mode for database connections (DB_TLS): verify-full checks the chain and the host name, require encrypts without checking, disable sends everything in clear. An admin secret's `ssl` key overrides it. rotor never falls back to a weaker mode."
  type        = string
  default     = "verify-full"

  validation {
    condition     = contains(["verify-full", "require", "disable"], var.db_tls)
    error_message = "db_tls must be verify-full, require or disable."
  }
}

variable "db_ca_bundle" {
  description = "Absolute path, inside the functions, of a PEM bundle that verifies the database's certificate (DB_CA_BUNDLE), e.g. /opt/rds-global-bundle.pem from a layer. null uses the system roots, which do not include the RDS CAs."
  type        = string
  default     = null

  validation {
    condition     = var.db_ca_bundle == null || can(regex("^/", var.db_ca_bundle))
    error_message = "db_ca_bundle must be an absolute path (the package unpacks under /var/task, layers under /opt)."
  }
}

variable "db_connect_timeout_seconds" {
  description = "Bound on one database connection attempt, TLS and login included (DB_CONNECT_TIMEOUT, passed as a Go duration such as 5s). At most a third of issuer_timeout_seconds."
  type        = number
  default     = 5

  validation {
    condition     = floor(var.db_connect_timeout_seconds) == var.db_connect_timeout_seconds && var.db_connect_timeout_seconds >= 1 && var.db_connect_timeout_seconds <= 60
    error_message = "db_connect_timeout_seconds must be a whole number from 1 to 60."
  }
}

variable "layers" {
  description = "Lambda layer ARNs for both functions (e.g. one holding the RDS CA bundle named by db_ca_bundle), or null for none."
  type        = list(string)
  default     = null
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' EMF metrics (METRICS_NAMESPACE)."
  type        = string
  default     = "Rotor"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters of letters, digits and . _ / # : - and must not start with AWS/."
  }
}

variable "secrets_manager_endpoint" {
  description = "Secrets Manager endpoint URL for the functions (SECRETS_MANAGER_ENDPOINT), e.g. a VPC endpoint's DNS name without private DNS. null uses the regional endpoint."
  type        = string
  default     = null
}

variable "reaper_schedule_expression" {
  description = "When the reaper runs (an EventBridge schedule expression). A lease user lives on, unable to log in (PostgreSQL) or still able to (MariaDB, where the expiry is the reaper's record only), for up to this long after its expiry: keep it short."
  type        = string
  default     = "rate(5 minutes)"

  validation {
    condition     = can(regex("^(rate\\(.+\\)|cron\\(.+\\))$", var.reaper_schedule_expression))
    error_message = "reaper_schedule_expression must be rate(...) or cron(...)."
  }
}

variable "issuer_timeout_seconds" {
  description = "Timeout of one issuer invocation, in seconds: a login with the admin secret and a few statements."
  type        = number
  default     = 30

  validation {
    condition     = floor(var.issuer_timeout_seconds) == var.issuer_timeout_seconds && var.issuer_timeout_seconds >= 3 && var.issuer_timeout_seconds <= 900
    error_message = "issuer_timeout_seconds must be a whole number from 3 to 900."
  }
}

variable "reaper_timeout_seconds" {
  description = "Timeout of one reaper run, in seconds. A user left for lack of time is dropped by the next run."
  type        = number
  default     = 120

  validation {
    condition     = floor(var.reaper_timeout_seconds) == var.reaper_timeout_seconds && var.reaper_timeout_seconds >= 10 && var.reaper_timeout_seconds <= 900
    error_message = "reaper_timeout_seconds must be a whole number from 10 to 900."
  }
}

variable "memory_size" {
  description = "Memory of each function, in MB."
  type        = number
  default     = 256

  validation {
    condition     = floor(var.memory_size) == var.memory_size && var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "issuer_reserved_concurrency" {
  description = "Reserved concurrency of the issuer, which also caps it: each invocation opens an admin connection, so this bounds the admin sessions leases can cost the database. null leaves it unreserved."
  type        = number
  default     = null

  validation {
    condition     = var.issuer_reserved_concurrency == null || try(var.issuer_reserved_concurrency >= 1 && floor(var.issuer_reserved_concurrency) == var.issuer_reserved_concurrency, false)
    error_message = "issuer_reserved_concurrency must be a whole number of at least 1, or null."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic for the alarms (issuer and reaper errors, expired users the reaper could not drop: metric LeaseReapFailures): the alerts module's topic_arn, so they reach the same people as rotation failures; give this module the alerts module's name, as its topic policy admits only alarms named <name>-*. null creates no alarm."
  type        = string
  default     = null
}

variable "role_permissions_boundary" {
  description = "ARN of a permissions boundary for both roles, or null."
  type        = string
  default     = null
}

variable "issuer_role_name" {
  description = "Name of the issuer's IAM role. null uses role_name_prefix, or <name>-issuer-<region>."
  type        = string
  default     = null
}

variable "reaper_role_name" {
  description = "Name of the reaper's IAM role. null uses role_name_prefix, or <name>-reaper-<region>."
  type        = string
  default     = null
}

variable "role_name_prefix" {
  description = "Name prefix of the functions' IAM roles: each role is named <prefix><function>-<random suffix> (IAM's name_prefix). null uses the default names, <name>-<function>-<region>."
  type        = string
  default     = null

  validation {
    condition     = var.role_name_prefix == null || can(regex("^[\\w+=,.@-]{1,38}$", coalesce(var.role_name_prefix, "-")))
    error_message = "role_name_prefix must be 1-38 characters of letters, digits and + = , . @ _ - (IAM's name_prefix limit)."
  }
}

variable "log_level" {
  description = "Application log level of both functions, in any case: trace, debug, info, warn, error or fatal (Lambda's logging_config application_log_level)."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error", "fatal"], lower(var.log_level))
    error_message = "log_level must be trace, debug, info, warn, error or fatal."
  }
}

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
  description = "KMS key encrypting the log groups, or null for CloudWatch's own encryption."
  type        = string
  default     = null
}

variable "enable_vpc" {
  description = "Run both functions inside a VPC (needed when the databases are not publicly reachable). The module then creates one security group for them: egress to the databases and to 443 only."
  type        = bool
  default     = false
}

variable "vpc_id" {
  description = "VPC of the functions when enable_vpc is true."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Private subnets for the functions when enable_vpc is true. They need a route to Secrets Manager: a NAT gateway or a VPC endpoint."
  type        = list(string)
  default     = []
}

variable "database_ports" {
  description = "TCP ports the functions' security group may reach the databases on."
  type        = list(number)
  default     = [5432]

  validation {
    condition     = length(var.database_ports) > 0 && alltrue([for p in var.database_ports : floor(p) == p && p >= 1 && p <= 65535])
    error_message = "database_ports must hold at least one port from 1 to 65535."
  }
}

variable "database_security_group_ids" {
  description = "Security groups of the databases: the functions may reach them on database_ports. Their ingress rules (from output security_group_id) are the caller's to add."
  type        = list(string)
  default     = []
}

variable "database_cidr_blocks" {
  description = "IPv4 CIDR blocks of the databases, for databases not addressable by security group. The functions may reach them on database_ports."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.database_cidr_blocks : can(cidrnetmask(c))])
    error_message = "database_cidr_blocks must be IPv4 CIDR blocks."
  }
}

variable "https_egress_cidr_blocks" {
  description = "IPv4 CIDR blocks the functions may reach on 443 for Secrets Manager (through a NAT gateway or an endpoint). Set [] only when nothing needs it."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.https_egress_cidr_blocks : can(cidrnetmask(c))])
    error_message = "https_egress_cidr_blocks must be IPv4 CIDR blocks."
  }
}

variable "tags" {
  description = "Tags for every taggable resource."
  type        = map(string)
  default     = {}
}
