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

output "prefect_api_url" {
  description = "Prefect API URL of the team stack (null without servers_enabled)."
  value       = var.servers_enabled ? module.servers[0].prefect_api_url : null
}

output "mlflow_tracking_uri" {
  description = "MLflow tracking URI of the team stack (null without servers_enabled)."
  value       = var.servers_enabled ? module.servers[0].mlflow_tracking_uri : null
}

output "load_balancer_dns_name" {
  description = "Point prefect_host and mlflow_host at this name (null without servers_enabled)."
  value       = var.servers_enabled ? module.servers[0].load_balancer_dns_name : null
}
