# Inputs of the AWS deployment (see README.md). Required variables (no
# default) are validated; so is every variable whose bad value AWS would
# accept silently.

variable "region" {
  description = "AWS region of every resource."
  type        = string
  default     = "us-east-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region: an AWS region name such as us-east-1."
  }
}

variable "name_prefix" {
  description = "Prefix of queue, role, security group and auto-scaling group names."
  type        = string
  default     = "owls-q4"
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name_prefix))
    error_message = "name_prefix: 1-40 characters of [A-Za-z0-9_-]."
  }
}

variable "archive_bucket_name" {
  description = "Archive bucket (inputs); globally unique."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.archive_bucket_name)) && !can(regex("\\.\\.", var.archive_bucket_name))
    error_message = "archive_bucket_name: 3-63 characters of [a-z0-9.-], no '..'."
  }
}

variable "artifacts_bucket_name" {
  description = "Artifacts bucket (results); globally unique."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_bucket_name)) && !can(regex("\\.\\.", var.artifacts_bucket_name))
    error_message = "artifacts_bucket_name: 3-63 characters of [a-z0-9.-], no '..'."
  }
}

variable "longest_job_seconds" {
  description = "Wall time of the longest expected job; the work queue's visibility timeout is at least 6 times this."
  type        = number
  default     = 300
  validation {
    condition     = var.longest_job_seconds >= 1 && var.longest_job_seconds <= 7200 && floor(var.longest_job_seconds) == var.longest_job_seconds
    error_message = "longest_job_seconds: a whole number from 1 to 7200."
  }
}

variable "visibility_timeout_seconds" {
  description = "Work queue visibility timeout (and [sqs] visibility_timeout); null = 6 x longest_job_seconds; never less."
  type        = number
  default     = null
  validation {
    condition     = var.visibility_timeout_seconds == null ? true : (var.visibility_timeout_seconds >= 6 && var.visibility_timeout_seconds <= 43200)
    error_message = "visibility_timeout_seconds: null or 6..43200."
  }
}

variable "max_receive_count" {
  description = "Receives before a work message moves to the dead-letter queue."
  type        = number
  default     = 5
  validation {
    condition     = var.max_receive_count >= 5 && var.max_receive_count <= 1000
    error_message = "max_receive_count: 5..1000."
  }
}

variable "enable_s3_notification" {
  description = "Send the archive bucket's ObjectCreated events under run= to the work queue."
  type        = bool
  default     = false
}

variable "vpc_id" {
  description = "VPC of the instances."
  type        = string
  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id: vpc-xxxxxxxx."
  }
}

variable "subnet_ids" {
  description = "Subnets of the auto-scaling group; they need a route to S3 and SQS (NAT or VPC endpoints) and, for git/apt installs, to the internet."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) >= 1 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "subnet_ids: one or more subnet-xxxxxxxx ids."
  }
}

variable "architecture" {
  description = "CPU architecture of the AMI and instance type."
  type        = string
  default     = "amd64"
  validation {
    condition     = contains(["amd64", "arm64"], var.architecture)
    error_message = "architecture: amd64 or arm64."
  }
}

variable "ami_id" {
  description = "AMI to boot; empty = the latest official Debian 12 AMI."
  type        = string
  default     = ""
  validation {
    condition     = var.ami_id == "" || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id: empty or ami-xxxxxxxx."
  }
}

variable "instance_type" {
  description = "EC2 instance type (compute bound: c-family)."
  type        = string
  default     = "c6i.large"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type: e.g. c6i.large."
  }
}

variable "root_volume_gb" {
  description = "Root EBS volume size (the artifact spool lives on it)."
  type        = number
  default     = 20
  validation {
    condition     = var.root_volume_gb >= 8 && var.root_volume_gb <= 16384
    error_message = "root_volume_gb: 8..16384."
  }
}

variable "imds_hop_limit" {
  description = "IMDSv2 PUT response hop limit: 1 for the daemon on the host, 2 if it runs in a container on the instance."
  type        = number
  default     = 1
  validation {
    condition     = contains([1, 2], var.imds_hop_limit)
    error_message = "imds_hop_limit: 1 or 2."
  }
}

variable "asg_min_size" {
  type    = number
  default = 1
  validation {
    condition     = var.asg_min_size >= 0 && var.asg_min_size <= 100
    error_message = "asg_min_size: 0..100."
  }
}

variable "asg_max_size" {
  type    = number
  default = 2
  validation {
    condition     = var.asg_max_size >= 1 && var.asg_max_size <= 100
    error_message = "asg_max_size: 1..100."
  }
}

variable "asg_desired_capacity" {
  type    = number
  default = 1
  validation {
    condition     = var.asg_desired_capacity >= 0 && var.asg_desired_capacity <= 100
    error_message = "asg_desired_capacity: 0..100."
  }
}

variable "package_url" {
  description = "URL of an owls-q4d .deb, or of a .tar.gz of `make install PREFIX=/usr DESTDIR=stage` (the contents of stage/). Empty = build from git_url."
  type        = string
  default     = ""
  validation {
    condition     = var.package_url == "" || can(regex("^https://[^'\\s]+\\.(deb|tar\\.gz|tgz)$", var.package_url))
    error_message = "package_url: empty or an https:// URL ending in .deb, .tar.gz or .tgz."
  }
}

variable "git_url" {
  description = "Git repository to build owls-q4d from when package_url is empty (`make deps && make && make install PREFIX=/usr`)."
  type        = string
  default     = ""
  validation {
    condition     = var.git_url == "" || can(regex("^https://[^'\\s]+$", var.git_url))
    error_message = "git_url: empty or an https:// URL."
  }
}

variable "git_ref" {
  description = "Branch or tag of git_url."
  type        = string
  default     = "main"
  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$", var.git_ref))
    error_message = "git_ref: a branch or tag name."
  }
}

variable "runtime_packages" {
  description = "Debian packages a tarball install needs (the .deb declares its own; a git build installs them with `make deps`)."
  type        = list(string)
  default = ["ca-certificates", "libcurl4", "libssl3", "libxml2", "libjansson4", "libgsl27", "libgslcblas0",
  "libsystemd0", "libinih1", "libcsv3", "libsnappy1v5", "zlib1g", "libzstd1"]
  validation {
    condition     = alltrue([for p in var.runtime_packages : can(regex("^[a-z0-9][a-z0-9+.-]+$", p))])
    error_message = "runtime_packages: Debian package names."
  }
}

variable "worker_threads" {
  description = "[worker] threads; 0 = one per CPU."
  type        = number
  default     = 0
}

variable "log_level" {
  description = "[log] level."
  type        = string
  default     = "info"
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}
