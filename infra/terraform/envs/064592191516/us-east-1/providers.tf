provider "aws" {
  region = var.region

  # Refuse to run against any other account than the one this folder is named for.
  allowed_account_ids = [var.account_id]

  # Every resource that takes tags gets these (autoscaled instances get them
  # through the launch template, see modules/ec2_workers).
  default_tags {
    tags = local.tags
  }
}
