output "role_arn" {
  description = "ARN of the workers' instance role."
  value       = aws_iam_role.worker.arn
}

output "role_name" {
  description = "Name of the workers' instance role."
  value       = aws_iam_role.worker.name
}

output "instance_profile_name" {
  description = "Instance profile to launch the workers with."
  value       = aws_iam_instance_profile.worker.name
}
