variable "function" {
  description = "Which rotor function this is (rotator, rotatenow, notifier, auditor, issuer, reaper): the name of its package under functions/ and the key of internal/config.FunctionEnv its environment is checked against. Also names the inline role policy (rotor-<function>)."
  type        = string

  validation {
    condition     = contains(["rotator", "rotatenow", "notifier", "auditor", "issuer", "reaper"], var.function)
    error_message = "function must be one of rotator, rotatenow, notifier, auditor, issuer, reaper."
  }
}

variable "name" {
  description = "Name of the Lambda function; the log group is /aws/lambda/<name>, and the IAM role is <name>-<region> (cut to 64 characters) unless role_name or role_name_prefix is given."
  type        = string
}

variable "description" {
  description = "Description of the Lambda function."
  type        = string
}

variable "role_description" {
  description = "Description of the function's IAM role."
  type        = string
}

variable "zip_path" {
  description = "Path of the function's deployment package (a zip holding the static bootstrap), relative to Terraform's working directory. Ignored when s3_bucket or s3_key is set."
  type        = string
  default     = null
}

variable "s3_bucket" {
  description = "Bucket of the deployment package in S3 (a rotor release zip uploaded to a bucket in the function's region), deployed instead of zip_path when it or s3_key is set; needs s3_key."
  type        = string
  default     = null
}

variable "s3_key" {
  description = "Key of the deployment package in s3_bucket; null with a null s3_bucket deploys zip_path."
  type        = string
  default     = null
}

variable "s3_object_version" {
  description = "Version of the S3 object, for a versioned bucket; null for the latest."
  type        = string
  default     = null
}

variable "architecture" {
  description = "Instruction set of the package: arm64 (Graviton, the default) or x86_64. A release zip named ..._linux_arm64.zip needs arm64, ..._linux_amd64.zip x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "layers" {
  description = "Lambda layer ARNs, or null for none."
  type        = list(string)
  default     = null
}

variable "memory_size" {
  description = "Memory of the function, in MB."
  type        = number
}

variable "timeout" {
  description = "Timeout of one invocation, in seconds."
  type        = number
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency, or null for Lambda's default (-1, unreserved)."
  type        = number
  default     = null
}

variable "environment" {
  description = "Environment variables of the function. The names must be among those the function reads (internal/config.FunctionEnv[function]); the offline checks read this argument at every call of this module."
  type        = map(string)
  default     = {}
}

variable "policy" {
  description = "JSON of the role's inline policy, written by the calling module (least privilege is reviewed there). Writing to the function's own log group, and in a VPC the network-interface actions, are granted by this module."
  type        = string
}

variable "role_name" {
  description = "Name of the IAM role; null uses role_name_prefix, or <name>-<region> when both are null (IAM role names are global to the account, so the default carries the region)."
  type        = string
  default     = null
}

variable "role_name_prefix" {
  description = "Name prefix of the IAM role (IAM's name_prefix; the role gets <prefix><function>-<suffix>). Used when role_name is null."
  type        = string
  default     = null
}

variable "role_permissions_boundary_arn" {
  description = "Permissions boundary for the role, or null for none."
  type        = string
  default     = null
}

variable "log_level" {
  description = "Application log level, in any case (logging_config application_log_level, upper-cased; the function reads it as AWS_LAMBDA_LOG_LEVEL): TRACE, DEBUG, INFO, WARN, ERROR or FATAL."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], upper(var.log_level))
    error_message = "log_level must be TRACE, DEBUG, INFO, WARN, ERROR or FATAL."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group, in days."
  type        = number
}

variable "log_kms_key_arn" {
  description = "KMS key encrypting the log group, or null for CloudWatch's own encryption."
  type        = string
  default     = null
}

variable "vpc_config" {
  description = "Subnets and security groups to place the function in a VPC, or null to run it outside one. In a VPC the role's inline policy also grants the network-interface actions Lambda needs (ManageVpcNetworkInterfaces)."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

variable "preconditions" {
  description = "Further conditions the calling module checks before the function is planned (condition, and the error_message reported when it is false), beside the package's existence."
  type = list(object({
    condition     = bool
    error_message = string
  }))
  default = []
}

variable "errors_alarm" {
  description = "A CloudWatch alarm <name>-errors on the function's Errors (Sum over 5 minutes >= 1, missing data not breaching), notifying topic_arn on alarm and on OK; its description reads \"The rotor <function> failed<failure_note>: read its log group ...\". null for none."
  type = object({
    topic_arn    = string
    failure_note = optional(string, "")
  })
  default = null
}

variable "schedule" {
  description = "Run the function on an EventBridge schedule: the rule's name, description and expression (rate() or cron()), and the statement_id and source_account of the Lambda permission that lets that rule invoke it; null for none."
  type = object({
    rule_name      = string
    description    = string
    expression     = string
    statement_id   = string
    source_account = string
  })
  default = null
}

variable "async_retries" {
  description = "How often Lambda retries a failed asynchronous invocation (0 to 2; events older than an hour are dropped), or null to leave Lambda's defaults."
  type        = number
  default     = null
}

variable "tags" {
  description = "Tags for every resource of the function."
  type        = map(string)
  default     = {}
}
