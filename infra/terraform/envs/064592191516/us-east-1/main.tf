# The seed's AWS environment: account 064592191516, region us-east-1. It wires
# the modules: the data and artifact bucket, the image repository, the workers'
# role and the workers, and (servers_enabled = true) the team stack's Prefect
# and MLflow servers on RDS PostgreSQL behind HTTPS (modules/servers).

locals {
  name = "${var.project}-${var.environment}"

  tags = merge(
    {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
      Repository  = "mlops-platform/infra/terraform/envs/${var.account_id}/${var.region}"
    },
    var.tags,
  )

  ssm_prefix = "/${var.project}/${var.environment}"

  ssm_parameter_names = {
    prefect_api_url     = "${local.ssm_prefix}/prefect/api_url"
    prefect_api_key     = "${local.ssm_prefix}/prefect/api_key"
    prefect_auth_string = "${local.ssm_prefix}/prefect/auth_string"
    mlflow_tracking_uri = "${local.ssm_prefix}/mlflow/tracking_uri"
    mlflow_credentials  = "${local.ssm_prefix}/mlflow/credentials"
    image_tag           = "${local.ssm_prefix}/worker/image_tag"
  }

  log_group_name = "/${var.project}/${var.environment}/prefect-worker"
}

module "bucket" {
  source = "../../../modules/s3_bucket"

  name                               = var.bucket_name
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  tags                               = local.tags
}

module "ecr" {
  source = "../../../modules/ecr"

  name           = var.repository_name
  images_to_keep = var.images_to_keep
  tags           = local.tags
}

module "iam" {
  source = "../../../modules/iam"

  name                = "${local.name}-worker"
  account_id          = var.account_id
  region              = var.region
  bucket_arn          = module.bucket.arn
  repository_arn      = module.ecr.arn
  log_group_name      = local.log_group_name
  ssm_parameter_names = values(local.ssm_parameter_names)
  tags                = local.tags
}

module "workers" {
  source = "../../../modules/ec2_workers"

  name                  = local.name
  region                = var.region
  vpc_id                = var.vpc_id
  subnet_ids            = var.subnet_ids
  instance_profile_name = module.iam.instance_profile_name
  image_repository_url  = module.ecr.url
  work_pool             = var.work_pool
  ssm_parameter_names   = local.ssm_parameter_names
  log_group_name        = local.log_group_name
  instance_type         = var.instance_type
  min_size              = var.worker_min_size
  max_size              = var.worker_max_size
  desired_capacity      = var.worker_desired_capacity
  tags                  = local.tags
}

module "servers" {
  source = "../../../modules/servers"
  count  = var.servers_enabled ? 1 : 0

  name                 = local.name
  account_id           = var.account_id
  region               = var.region
  vpc_id               = var.vpc_id
  private_subnet_ids   = var.subnet_ids
  public_subnet_ids    = var.public_subnet_ids
  allowed_cidrs        = var.allowed_cidrs
  certificate_arn      = var.certificate_arn
  prefect_host         = var.prefect_host
  mlflow_host          = var.mlflow_host
  image_repository_url = module.ecr.url
  repository_arn       = module.ecr.arn
  bucket_name          = module.bucket.name
  bucket_arn           = module.bucket.arn
  ssm_parameter_names  = local.ssm_parameter_names
  log_group_name       = "/${var.project}/${var.environment}/servers"
  instance_type        = var.server_instance_type
  db_instance_class    = var.db_instance_class
  db_multi_az          = var.db_multi_az
  tags                 = local.tags
}
