variable "account_id" {
  description = "AWS account id this root applies to; the provider refuses any other."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be the 12-digit AWS account id."
  }
}

variable "region" {
  description = "AWS region of every resource in this root."
  type        = string
  default     = "eu-west-1"
}

variable "project" {
  description = "Project name: prefix of resource names, SSM parameter paths and the Project tag."
  type        = string
  default     = "mlops"
}

variable "environment" {
  description = "Environment name (prod, staging, ...): part of names and the Environment tag."
  type        = string
  default     = "prod"
}

variable "tags" {
  description = "Extra tags on every resource (merged over Project, Environment, ManagedBy)."
  type        = map(string)
  default     = {}
}

variable "bucket_name" {
  description = "Globally unique name of the data and MLflow artifact bucket."
  type        = string
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version is kept."
  type        = number
  default     = 90
}

variable "repository_name" {
  description = "ECR repository name of the flows image."
  type        = string
  default     = "mlops-flows"
}

variable "images_to_keep" {
  description = "Newest images kept in the repository."
  type        = number
  default     = 50
}

variable "vpc_id" {
  description = "VPC the workers run in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the workers (outbound through NAT or VPC endpoints)."
  type        = list(string)
}

variable "work_pool" {
  description = "Prefect work pool the workers poll."
  type        = string
  default     = "ec2"
}

variable "instance_type" {
  description = "EC2 instance type of a worker."
  type        = string
  default     = "t3.large"
}

variable "worker_min_size" {
  description = "Fewest workers."
  type        = number
  default     = 1
}

variable "worker_max_size" {
  description = "Most workers."
  type        = number
  default     = 2
}

variable "worker_desired_capacity" {
  description = "Workers to run now (0 stops them all, the rest stays)."
  type        = number
  default     = 1
}
