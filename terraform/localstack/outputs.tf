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

output "role_arn" {
  value = module.core.role_arn
}

output "owls_q4_conf" {
  value = module.core.owls_q4_conf
}
