variable "name" {
  description = "Globally unique bucket name for data and MLflow artifacts."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for SSE-KMS; null uses the AWS managed key aws/s3."
  type        = string
  default     = null
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which a replaced or deleted object version is removed."
  type        = number
  default     = 90
}

variable "noncurrent_versions_to_keep" {
  description = "Noncurrent versions of each object kept regardless of age."
  type        = number
  default     = 3
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a bucket that still holds objects."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags on every resource of the module that takes tags."
  type        = map(string)
  default     = {}
}
