variable "account_id" {
  description = "AWS account id this root applies to; the provider refuses any other."
  type        = string
  default     = "064592191516"

  validation {
    condition     = var.account_id == "064592191516"
    error_message = "This root is the seed's account 064592191516: copy the folder for another account."
  }
}

variable "region" {
  description = "AWS region of every resource in this root."
  type        = string
  default     = "us-east-1"
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

# --- team stack servers (modules/servers), off unless servers_enabled ---------

variable "servers_enabled" {
  description = "Create the Prefect and MLflow servers on RDS PostgreSQL behind HTTPS (about $240 a month, see README.md)."
  type        = bool
  default     = false
}

variable "public_subnet_ids" {
  description = "Subnets of the servers' HTTPS load balancer (two or more zones)."
  type        = list(string)
  default     = []
}

variable "allowed_cidrs" {
  description = "Networks that may reach the servers on 443 (office, VPN, the workers' NAT addresses)."
  type        = list(string)
  default     = ["10.0.0.0/8"]
}

variable "certificate_arn" {
  description = "ACM certificate covering prefect_host and mlflow_host."
  type        = string
  default     = ""
}

variable "prefect_host" {
  description = "Host name of the Prefect server (a CNAME to the load balancer)."
  type        = string
  default     = "prefect.example.com"
}

variable "mlflow_host" {
  description = "Host name of the MLflow server (a CNAME to the load balancer)."
  type        = string
  default     = "mlflow.example.com"
}

variable "server_instance_type" {
  description = "EC2 instance type of the server instance."
  type        = string
  default     = "t3.large"
}

variable "db_instance_class" {
  description = "RDS instance class of the servers' PostgreSQL."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_multi_az" {
  description = "Standby database in a second zone (doubles the database cost)."
  type        = bool
  default     = true
}
