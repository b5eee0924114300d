variable "name" {
  description = "Repository name of the flows image."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key; null uses the AWS managed key aws/ecr."
  type        = string
  default     = null
}

variable "images_to_keep" {
  description = "Newest images kept; older ones expire."
  type        = number
  default     = 50
}

variable "untagged_image_expiration_days" {
  description = "Days after which an untagged image expires."
  type        = number
  default     = 7
}

variable "force_delete" {
  description = "Allow terraform destroy to delete a repository that still holds images."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags on every resource of the module that takes tags."
  type        = map(string)
  default     = {}
}
