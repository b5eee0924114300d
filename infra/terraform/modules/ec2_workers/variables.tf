variable "name" {
  description = "Name prefix of the workers' resources."
  type        = string
}

variable "region" {
  description = "AWS region the workers run in (for the SSM, ECR and logs calls at boot)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the workers."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the workers: private subnets with a NAT gateway or VPC endpoints for outbound calls."
  type        = list(string)
}

variable "associate_public_ip_address" {
  description = "Give workers a public IP (only for subnets without NAT). The security group still admits nothing inbound."
  type        = bool
  default     = false
}

variable "egress_cidr" {
  description = "Destination CIDR of the workers' outbound rules."
  type        = string
  default     = "0.0.0.0/0"
}

variable "egress_tcp_ports" {
  description = "TCP ports the workers may call out on (HTTPS by default)."
  type        = list(number)
  default     = [443]
}

variable "instance_profile_name" {
  description = "Instance profile of the workers (from the iam module)."
  type        = string
}

variable "image_repository_url" {
  description = "ECR repository URL of the flows image (registry/name, no tag)."
  type        = string
}

variable "work_pool" {
  description = "Prefect work pool the workers poll."
  type        = string
  default     = "ec2"
}

variable "ssm_parameter_names" {
  description = "Names of the SSM parameters read at boot: prefect_api_url, prefect_api_key (SecureString, Prefect Cloud), prefect_auth_string (SecureString, a self-hosted server's user:password), mlflow_tracking_uri, mlflow_credentials (SecureString user:password of MLflow's basic auth), image_tag. The optional ones may be absent."
  type = object({
    prefect_api_url     = string
    prefect_api_key     = string
    prefect_auth_string = string
    mlflow_tracking_uri = string
    mlflow_credentials  = string
    image_tag           = string
  })
}

variable "log_group_name" {
  description = "CloudWatch log group of the workers' containers."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the workers' logs."
  type        = number
  default     = 365
}

variable "ami_ssm_parameter" {
  description = "Public SSM parameter that names the AMI (Amazon Linux 2023 by default)."
  type        = string
  default     = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

variable "instance_type" {
  description = "EC2 instance type of a worker."
  type        = string
  default     = "t3.large"
}

variable "root_volume_size_gb" {
  description = "Size of a worker's encrypted root volume in GiB (the image and run scratch space)."
  type        = number
  default     = 30
}

variable "ebs_kms_key_arn" {
  description = "ARN of a customer managed KMS key for the volumes; null uses the AWS managed key aws/ebs."
  type        = string
  default     = null
}

variable "detailed_monitoring" {
  description = "Enable one-minute CloudWatch metrics on the instances (charged)."
  type        = bool
  default     = false
}

variable "min_size" {
  description = "Fewest workers."
  type        = number
  default     = 1
}

variable "max_size" {
  description = "Most workers."
  type        = number
  default     = 2
}

variable "desired_capacity" {
  description = "Workers to run now."
  type        = number
  default     = 1
}

variable "tags" {
  description = "Tags on every resource of the module that takes tags, and on the instances and volumes it launches."
  type        = map(string)
  default     = {}
}
