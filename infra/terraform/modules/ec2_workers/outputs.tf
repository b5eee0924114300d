output "autoscaling_group_name" {
  description = "Name of the workers' autoscaling group."
  value       = aws_autoscaling_group.worker.name
}

output "launch_template_id" {
  description = "ID of the workers' launch template."
  value       = aws_launch_template.worker.id
}

output "security_group_id" {
  description = "Security group of the workers (egress only)."
  value       = aws_security_group.worker.id
}

output "log_group_name" {
  description = "CloudWatch log group of the workers."
  value       = aws_cloudwatch_log_group.worker.name
}
