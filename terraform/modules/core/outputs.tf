output "archive_bucket" {
  description = "Archive bucket name ([s3] archive_bucket)."
  value       = aws_s3_bucket.this["archive"].id
}

output "artifacts_bucket" {
  description = "Artifacts bucket name ([s3] artifacts_bucket)."
  value       = aws_s3_bucket.this["artifacts"].id
}

output "work_queue_url" {
  description = "Work queue URL ([sqs] work_queue_url)."
  value       = aws_sqs_queue.work.id
}

output "done_queue_url" {
  description = "Done queue URL ([sqs] done_queue_url)."
  value       = aws_sqs_queue.done.id
}

output "dlq_url" {
  description = "Dead-letter queue URL (inspect and redrive by hand)."
  value       = aws_sqs_queue.dlq.id
}

output "work_queue_arn" {
  value = aws_sqs_queue.work.arn
}

output "visibility_timeout_seconds" {
  description = "The work queue's visibility timeout, also [sqs] visibility_timeout."
  value       = local.visibility_timeout
}

output "role_arn" {
  description = "IAM role of the daemon."
  value       = aws_iam_role.daemon.arn
}

output "role_name" {
  value = aws_iam_role.daemon.name
}

output "instance_profile_name" {
  value = aws_iam_instance_profile.daemon.name
}

output "instance_profile_arn" {
  value = aws_iam_instance_profile.daemon.arn
}

# /etc/owls-q4.conf for these resources (SPEC §7), the same format as
# scripts/deploy-local.sh prints.
output "owls_q4_conf" {
  description = "A ready /etc/owls-q4.conf."
  value = templatefile("${path.module}/owls-q4.conf.tftpl", {
    region             = data.aws_region.current.name
    endpoint_url       = var.endpoint_url
    addressing         = var.endpoint_url == "" ? "auto" : "path"
    archive_bucket     = aws_s3_bucket.this["archive"].id
    artifacts_bucket   = aws_s3_bucket.this["artifacts"].id
    work_queue_url     = aws_sqs_queue.work.id
    done_queue_url     = aws_sqs_queue.done.id
    visibility_timeout = local.visibility_timeout
    threads            = var.worker_threads
    log_level          = var.log_level
  })
}
