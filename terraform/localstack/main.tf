# LocalStack variant: the same core module (buckets, queues, redrive,
# optional S3 -> SQS notification, IAM role and policy) against LocalStack's
# free services (s3, sqs, iam, sts) through provider endpoint overrides; no
# EC2. Usage:
#   cd terraform/localstack && terraform init && terraform apply
#   terraform output -raw owls_q4_conf > owls-q4.conf
# (scripts/deploy-local.sh does the same with the aws CLI, for moto too.)

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true
  endpoints {
    s3  = var.endpoint_url
    sqs = var.endpoint_url
    iam = var.endpoint_url
    sts = var.endpoint_url
  }
}

module "core" {
  source                 = "../modules/core"
  name_prefix            = var.name_prefix
  archive_bucket_name    = var.archive_bucket_name
  artifacts_bucket_name  = var.artifacts_bucket_name
  longest_job_seconds    = var.longest_job_seconds
  max_receive_count      = var.max_receive_count
  enable_s3_notification = var.enable_s3_notification
  force_destroy          = true
  endpoint_url           = var.endpoint_url
}
