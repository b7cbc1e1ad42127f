# Core data plane of owls-q4d (SPEC §1 "frozen control plane"): the archive
# and artifacts buckets, the work queue with its dead-letter queue, the done
# queue, the optional S3 -> SQS notification, and the IAM role whose policy
# allows exactly the daemon's data-plane actions (etc/iam-actions.txt).
# Created once; the daemon never changes any of it.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  visibility_timeout = coalesce(var.visibility_timeout_seconds, 6 * var.longest_job_seconds)
  buckets = {
    archive   = var.archive_bucket_name
    artifacts = var.artifacts_bucket_name
  }
}

# --- buckets ------------------------------------------------------------------

resource "aws_s3_bucket" "this" {
  for_each      = local.buckets
  bucket        = each.value
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = aws_s3_bucket.this
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

# SSE-S3: encryption at rest that needs no KMS permission in the daemon's
# policy (SSE-KMS would add kms:Decrypt/GenerateDataKey to it).
resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each   = aws_s3_bucket.this
  bucket     = each.value.id
  depends_on = [aws_s3_bucket_versioning.this]
  rule {
    id     = "abort-incomplete-multipart-and-expire-old-versions"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each   = aws_s3_bucket.this
  bucket     = each.value.id
  policy     = data.aws_iam_policy_document.tls_only[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# --- queues -------------------------------------------------------------------

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name_prefix}-dlq"
  message_retention_seconds = 1209600 # 14 days, SQS's maximum: time to inspect
  max_message_size          = 262144
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "work" {
  name                       = "${var.name_prefix}-work"
  visibility_timeout_seconds = local.visibility_timeout
  receive_wait_time_seconds  = 20
  message_retention_seconds  = 345600 # 4 days; the DLQ keeps 14 (SQS keeps the first enqueue time)
  max_message_size           = 262144  # S3 event batches and job JSON, >= 64 KiB
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  lifecycle {
    precondition {
      condition     = local.visibility_timeout >= 6 * var.longest_job_seconds
      error_message = "visibility_timeout_seconds must be at least 6 x longest_job_seconds."
    }
  }
}

# Only the work queue may move messages into the DLQ.
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.work.arn]
  })
}

# A failed notification quotes up to 64 KiB of the work message (SPEC §5),
# JSON-escaped: keep SQS's maximum size.
resource "aws_sqs_queue" "done" {
  name                      = "${var.name_prefix}-done"
  message_retention_seconds = 1209600
  max_message_size          = 262144
  sqs_managed_sse_enabled   = true
}

# --- optional S3 -> SQS notification -----------------------------------------

data "aws_iam_policy_document" "work_queue_from_s3" {
  count = var.enable_s3_notification ? 1 : 0
  statement {
    sid       = "AllowArchiveObjectCreated"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.work.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.this["archive"].arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "work_from_s3" {
  count     = var.enable_s3_notification ? 1 : 0
  queue_url = aws_sqs_queue.work.id
  policy    = data.aws_iam_policy_document.work_queue_from_s3[0].json
}

resource "aws_s3_bucket_notification" "archive" {
  count  = var.enable_s3_notification ? 1 : 0
  bucket = aws_s3_bucket.this["archive"].id
  queue {
    id            = "owls-q4-run-objects"
    queue_arn     = aws_sqs_queue.work.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "run="
  }
  # S3 sends a test event on creation: the queue policy must already allow it.
  depends_on = [aws_sqs_queue_policy.work_from_s3]
}
