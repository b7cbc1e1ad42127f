output "archive_bucket" {
  value = module.core.archive_bucket
}

output "artifacts_bucket" {
  value = module.core.artifacts_bucket
}

output "work_queue_url" {
  value = module.core.work_queue_url
}

output "done_queue_url" {
  value = module.core.done_queue_url
}

output "dlq_url" {
  value = module.core.dlq_url
}

output "visibility_timeout_seconds" {
  value = module.core.visibility_timeout_seconds
}

output "role_arn" {
  description = "IAM role of the daemon (data-plane actions only)."
  value       = module.core.role_arn
}

output "instance_profile_name" {
  value = module.core.instance_profile_name
}

output "autoscaling_group_name" {
  value = aws_autoscaling_group.daemon.name
}

output "owls_q4_conf" {
  description = "The /etc/owls-q4.conf the instances get (terraform output -raw owls_q4_conf)."
  value       = module.core.owls_q4_conf
}
