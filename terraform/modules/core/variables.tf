# Inputs of the core module: the data plane owls-q4d works on (buckets,
# queues, IAM). Every variable without a default is validated.

variable "name_prefix" {
  description = "Prefix of the queue, role and profile names (e.g. owls-q4)."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name_prefix))
    error_message = "name_prefix: 1-40 characters of [A-Za-z0-9_-], starting with a letter or digit."
  }
}

variable "archive_bucket_name" {
  description = "S3 bucket the inputs are uploaded to (globally unique)."
  type        = string
  validation {
    condition = (can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.archive_bucket_name))
    && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$|^xn--|-s3alias$", var.archive_bucket_name)))
    error_message = "archive_bucket_name: 3-63 characters of [a-z0-9.-], no '..', not an IP address (S3 bucket naming rules)."
  }
}

variable "artifacts_bucket_name" {
  description = "S3 bucket the artifacts are written to (globally unique)."
  type        = string
  validation {
    condition = (can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_bucket_name))
    && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$|^xn--|-s3alias$", var.artifacts_bucket_name)))
    error_message = "artifacts_bucket_name: 3-63 characters of [a-z0-9.-], no '..', not an IP address (S3 bucket naming rules)."
  }
}

variable "longest_job_seconds" {
  description = "Wall time of the longest expected job. The work queue's visibility timeout is at least 6 times this (the AWS rule of thumb for queue consumers), so a stalled worker's message comes back only after its extensions stop."
  type        = number
  validation {
    condition     = var.longest_job_seconds >= 1 && var.longest_job_seconds <= 7200 && floor(var.longest_job_seconds) == var.longest_job_seconds
    error_message = "longest_job_seconds: a whole number of seconds from 1 to 7200 (6 x 7200 s is SQS's 12 h visibility limit)."
  }
}

variable "visibility_timeout_seconds" {
  description = "Visibility timeout of the work queue and the daemon's visibility_timeout; null = 6 x longest_job_seconds. Must be >= 6 x longest_job_seconds (checked by a precondition)."
  type        = number
  default     = null
  validation {
    condition = var.visibility_timeout_seconds == null ? true : (
      var.visibility_timeout_seconds >= 6 && var.visibility_timeout_seconds <= 43200
    && floor(var.visibility_timeout_seconds) == var.visibility_timeout_seconds)
    error_message = "visibility_timeout_seconds: null or a whole number of seconds from 6 to 43200."
  }
}

variable "max_receive_count" {
  description = "Receives of a work message before SQS moves it to the dead-letter queue."
  type        = number
  default     = 5
  validation {
    condition     = var.max_receive_count >= 5 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count: a whole number from 5 to 1000 (fewer would dead-letter jobs on short transient outages)."
  }
}

variable "enable_s3_notification" {
  description = "Let the archive bucket send ObjectCreated events under run= to the work queue (SPEC §2 b). Leave off if jobs are submitted with `owls-q4 submit`, which sends its own job message."
  type        = bool
  default     = false
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete non-empty buckets (test environments only)."
  type        = bool
  default     = false
}

variable "noncurrent_version_days" {
  description = "Days old object versions are kept in both (versioned) buckets."
  type        = number
  default     = 30
  validation {
    condition     = var.noncurrent_version_days >= 1 && floor(var.noncurrent_version_days) == var.noncurrent_version_days
    error_message = "noncurrent_version_days: a whole number >= 1."
  }
}

variable "endpoint_url" {
  description = "endpoint_url written into the rendered owls-q4.conf: empty for AWS, the emulator's URL otherwise."
  type        = string
  default     = ""
  validation {
    condition     = var.endpoint_url == "" || can(regex("^https?://[^/?#]+/?$", var.endpoint_url))
    error_message = "endpoint_url: empty or http(s)://host[:port]."
  }
}

variable "worker_threads" {
  description = "[worker] threads in the rendered config; 0 = one per CPU."
  type        = number
  default     = 0
  validation {
    condition     = var.worker_threads >= 0 && var.worker_threads <= 256 && floor(var.worker_threads) == var.worker_threads
    error_message = "worker_threads: a whole number from 0 to 256."
  }
}

variable "log_level" {
  description = "[log] level in the rendered config."
  type        = string
  default     = "info"
  validation {
    condition     = contains(["debug", "info", "notice", "warning", "err"], var.log_level)
    error_message = "log_level: one of debug, info, notice, warning, err."
  }
}
