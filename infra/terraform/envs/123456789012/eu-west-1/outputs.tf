output "bucket_name" {
  description = "Data and artifact bucket: MLOPS_S3_BUCKET for python -m blocks.register."
  value       = module.bucket.name
}

output "repository_url" {
  description = "Image name to tag and push the flows image as (add :<git commit>)."
  value       = module.ecr.url
}

output "worker_role_arn" {
  description = "Instance role of the workers."
  value       = module.iam.role_arn
}

output "autoscaling_group_name" {
  description = "Autoscaling group of the workers (scale or refresh it here)."
  value       = module.workers.autoscaling_group_name
}

output "log_group_name" {
  description = "CloudWatch log group with the workers' output."
  value       = module.workers.log_group_name
}

output "ssm_parameter_names" {
  description = "SSM parameters the workers read at boot; put their values before the workers start."
  value       = local.ssm_parameter_names
}
