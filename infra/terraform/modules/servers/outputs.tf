output "prefect_api_url" {
  description = "Prefect API URL of the servers (also in SSM for the workers)."
  value       = aws_ssm_parameter.prefect_api_url.value
}

output "mlflow_tracking_uri" {
  description = "MLflow tracking URI of the servers (also in SSM for the workers)."
  value       = aws_ssm_parameter.mlflow_tracking_uri.value
}

output "load_balancer_dns_name" {
  description = "DNS name of the load balancer: point prefect_host and mlflow_host at it (CNAME or alias)."
  value       = aws_lb.servers.dns_name
}

output "load_balancer_zone_id" {
  description = "Hosted zone of the load balancer, for Route 53 alias records."
  value       = aws_lb.servers.zone_id
}

output "database_endpoint" {
  description = "Endpoint of the RDS PostgreSQL database (private)."
  value       = aws_db_instance.servers.address
}

output "database_secret_arn" {
  description = "Secrets Manager secret RDS manages for the database's master user (never in state)."
  value       = aws_db_instance.servers.master_user_secret[0].secret_arn
}

output "security_group_id" {
  description = "Security group of the server instance."
  value       = aws_security_group.servers.id
}
