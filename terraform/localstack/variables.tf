variable "endpoint_url" {
  description = "LocalStack edge endpoint as the provider reaches it (also endpoint_url in the rendered config)."
  type        = string
  default     = "http://localhost:4566"
  validation {
    condition     = can(regex("^https?://[^/?#]+$", var.endpoint_url))
    error_message = "endpoint_url: http(s)://host:port."
  }
}

variable "region" {
  type    = string
  default = "us-east-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region: an AWS region name such as us-east-1."
  }
}

variable "name_prefix" {
  type    = string
  default = "owls-q4"
}

variable "archive_bucket_name" {
  type    = string
  default = "owls-q4-archive"
}

variable "artifacts_bucket_name" {
  type    = string
  default = "owls-q4-artifacts"
}

variable "longest_job_seconds" {
  type    = number
  default = 10
}

variable "max_receive_count" {
  type    = number
  default = 5
}

variable "enable_s3_notification" {
  type    = bool
  default = false
}
