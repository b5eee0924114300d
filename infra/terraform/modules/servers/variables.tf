variable "name" {
  description = "Name prefix of every resource (project-environment)."
  type        = string
}

variable "account_id" {
  description = "AWS account id, for the ARNs of the instance policy."
  type        = string
}

variable "region" {
  description = "AWS region of the servers."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the database, the servers and the load balancer."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (two or more zones) of the database and the server instance."
  type        = list(string)
}

variable "public_subnet_ids" {
  description = "Subnets (two or more zones) of the HTTPS load balancer."
  type        = list(string)
}

variable "allowed_cidrs" {
  description = "Networks that may reach the load balancer on 443 (office, VPN, the workers' NAT); never the whole internet."
  type        = list(string)

  validation {
    condition     = length(var.allowed_cidrs) > 0 && !contains(var.allowed_cidrs, "0.0.0.0/0")
    error_message = "allowed_cidrs must name the networks that may reach the servers, not 0.0.0.0/0."
  }
}

variable "certificate_arn" {
  description = "ACM certificate of the load balancer, covering prefect_host and mlflow_host."
  type        = string
}

variable "prefect_host" {
  description = "Host name of the Prefect server behind the load balancer (prefect.example.com)."
  type        = string
}

variable "mlflow_host" {
  description = "Host name of the MLflow server behind the load balancer (mlflow.example.com)."
  type        = string
}

variable "image_repository_url" {
  description = "ECR repository of the flows image (it holds both servers)."
  type        = string
}

variable "repository_arn" {
  description = "ARN of that ECR repository, for the pull permission."
  type        = string
}

variable "bucket_name" {
  description = "Bucket the MLflow server proxies artifacts to (under mlartifacts/)."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of that bucket."
  type        = string
}

variable "ssm_parameter_names" {
  description = "SSM parameters: the URLs this module writes (prefect_api_url, mlflow_tracking_uri), the credentials put by hand (prefect_auth_string, mlflow_credentials: SecureString user:password) and image_tag."
  type = object({
    prefect_api_url     = string
    mlflow_tracking_uri = string
    prefect_auth_string = string
    mlflow_credentials  = string
    image_tag           = string
  })
}

variable "log_group_name" {
  description = "CloudWatch log group of the servers' containers."
  type        = string
}

variable "log_retention_days" {
  description = "Days the servers' logs are kept."
  type        = number
  default     = 365
}

variable "ami_ssm_parameter" {
  description = "Public SSM parameter holding the AMI of the server instance."
  type        = string
  default     = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

variable "instance_type" {
  description = "EC2 instance type of the server instance (Prefect + MLflow)."
  type        = string
  default     = "t3.large"
}

variable "root_volume_size_gb" {
  description = "Root volume of the server instance, GiB."
  type        = number
  default     = 30
}

variable "db_instance_class" {
  description = "RDS instance class of the PostgreSQL database."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_allocated_storage_gb" {
  description = "Initial storage of the database, GiB (grows up to db_max_storage_gb)."
  type        = number
  default     = 20
}

variable "db_max_storage_gb" {
  description = "Storage autoscaling limit of the database, GiB."
  type        = number
  default     = 100
}

variable "db_engine_version" {
  description = "PostgreSQL major version of the database."
  type        = string
  default     = "16"
}

variable "db_multi_az" {
  description = "Standby replica in a second zone (doubles the database cost)."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery) of the database."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 7
    error_message = "Keep at least 7 days of backups."
  }
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
