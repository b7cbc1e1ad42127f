# The daemon's identity: an EC2 role (and instance profile) whose only policy
# allows exactly the data-plane actions of SPEC §1, each on the resources
# that need it. Single source of truth: etc/iam-actions.txt (one line per
# action with its resource kinds); tests/ops/test_terraform.sh checks that
# the statements below grant exactly those (action, resource) pairs.

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    sid     = "EC2AssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "daemon" {
  # Without ListBucket real S3 answers a missing key with 403, not 404.
  statement {
    sid       = "ListBuckets"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.this["archive"].arn, aws_s3_bucket.this["artifacts"].arn]
  }
  # Inputs from the archive; MANIFEST.json of earlier runs from the artifacts.
  statement {
    sid       = "ReadObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.this["archive"].arn}/*", "${aws_s3_bucket.this["artifacts"].arn}/*"]
  }
  statement {
    sid       = "WriteArtifacts"
    effect    = "Allow"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.this["artifacts"].arn}/*"]
  }
  statement {
    sid       = "ConsumeWorkQueue"
    effect    = "Allow"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.work.arn]
  }
  statement {
    sid       = "NotifyDoneQueue"
    effect    = "Allow"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.done.arn]
  }
}

resource "aws_iam_role" "daemon" {
  name                 = "${var.name_prefix}-daemon"
  description          = "owls-q4d: data-plane access to its buckets and queues only"
  assume_role_policy   = data.aws_iam_policy_document.assume_ec2.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "daemon" {
  name   = "${var.name_prefix}-data-plane"
  role   = aws_iam_role.daemon.id
  policy = data.aws_iam_policy_document.daemon.json
}

resource "aws_iam_instance_profile" "daemon" {
  name = "${var.name_prefix}-daemon"
  role = aws_iam_role.daemon.name
}
