terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
  }

  # State in S3 with native locking (Terraform >= 1.10). The values are given at
  # init: terraform init -backend-config=backend.hcl (see backend.hcl.example).
  backend "s3" {}
}
