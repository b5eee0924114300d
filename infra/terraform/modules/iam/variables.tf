variable "name" {
  description = "Name of the role, its policy and its instance profile."
  type        = string
}

variable "account_id" {
  description = "AWS account id the role lives in (used to build ARNs)."
  type        = string
}

variable "region" {
  description = "AWS region of the log group and the SSM parameters."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the data and artifact bucket the workers read and write."
  type        = string
}

variable "repository_arn" {
  description = "ARN of the ECR repository the workers pull the flows image from."
  type        = string
}

variable "log_group_name" {
  description = "CloudWatch log group the workers write to."
  type        = string
}

variable "ssm_parameter_names" {
  description = "Full names of the SSM parameters the workers read at boot."
  type        = list(string)
}

variable "tags" {
  description = "Tags on every resource of the module that takes tags."
  type        = map(string)
  default     = {}
}
