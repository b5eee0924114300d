# The team stack on AWS: the Prefect server and the MLflow server on one EC2
# instance (the flows image runs both), on RDS PostgreSQL, behind an HTTPS
# load balancer that only the allowed networks reach. Authentication sits in
# the servers: Prefect's API auth string and MLflow's basic auth, both read
# from SSM SecureStrings at boot. The database password is RDS-managed in
# Secrets Manager: no secret is ever in the Terraform state. The workers find
# the servers through the two URL parameters this module writes.

data "aws_partition" "current" {}

data "aws_ssm_parameter" "ami" {
  name = var.ami_ssm_parameter
}

locals {
  partition = data.aws_partition.current.partition

  log_group_arn = "arn:${local.partition}:logs:${var.region}:${var.account_id}:log-group:${var.log_group_name}"

  # Read at boot by the servers (credentials put by hand, the image tag by the pipeline).
  boot_parameter_arns = [
    for name in [
      var.ssm_parameter_names.prefect_auth_string,
      var.ssm_parameter_names.mlflow_credentials,
      var.ssm_parameter_names.image_tag,
    ] :
    "arn:${local.partition}:ssm:${var.region}:${var.account_id}:parameter/${trimprefix(name, "/")}"
  ]

  ports = { prefect = 4200, mlflow = 5000 }
  hosts = { prefect = var.prefect_host, mlflow = var.mlflow_host }
}

# --- encryption key: database, its backups, Performance Insights, logs ------

data "aws_iam_policy_document" "servers_key" {
  #checkov:skip=CKV_AWS_111:A key policy: its "*" resource is this one key, and the account root must administer it or the key becomes unmanageable.
  #checkov:skip=CKV_AWS_356:A key policy: its "*" resource is this one key, not every resource of the account.
  #checkov:skip=CKV_AWS_109:A key policy: the account root keeps kms:* on this key (AWS's default key policy), which IAM policies then narrow.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${var.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsEncrypt"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.log_group_arn]
    }
  }
}

resource "aws_kms_key" "servers" {
  description             = "${var.name} servers: RDS storage, backups, Performance Insights, master secret, logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.servers_key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "servers" {
  name          = "alias/${var.name}-servers"
  target_key_id = aws_kms_key.servers.key_id
}

# --- database ---------------------------------------------------------------

resource "aws_db_subnet_group" "servers" {
  name        = "${var.name}-servers"
  description = "Private subnets of the servers' database"
  subnet_ids  = var.private_subnet_ids
  tags        = var.tags
}

resource "aws_db_parameter_group" "servers" {
  name        = "${var.name}-servers-pg${var.db_engine_version}"
  family      = "postgres${var.db_engine_version}"
  description = "TLS only; slow statements and DDL logged"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

data "aws_iam_policy_document" "servers_monitoring_assume" {
  statement {
    sid     = "RdsMonitoringAssumeRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.name}-servers-rds-monitoring"
  description        = "Enhanced monitoring of the servers' database"
  assume_role_policy = data.aws_iam_policy_document.servers_monitoring_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "servers" {
  identifier     = "${var.name}-servers"
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class
  db_name        = "prefect" # the mlflow databases are created at the servers' first boot
  username       = "mlops"

  # RDS keeps the password in Secrets Manager (encrypted with the key above)
  # and rotates it; Terraform never sees it, so the state holds no secret.
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.servers.arn

  allocated_storage     = var.db_allocated_storage_gb
  max_allocated_storage = var.db_max_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.servers.arn

  db_subnet_group_name   = aws_db_subnet_group.servers.name
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.servers.name
  multi_az               = var.db_multi_az

  backup_retention_period   = var.db_backup_retention_days
  backup_window             = "03:00-04:00"
  maintenance_window        = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot     = true
  deletion_protection       = true
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-servers-final"
  delete_automated_backups  = false

  auto_minor_version_upgrade          = true
  iam_database_authentication_enabled = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  monitoring_interval                 = 60
  monitoring_role_arn                 = aws_iam_role.monitoring.arn
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = aws_kms_key.servers.arn

  tags = var.tags
}

# --- network: allowed networks -> load balancer -> servers -> database -------

resource "aws_security_group" "load_balancer" {
  name        = "${var.name}-servers-lb"
  description = "HTTPS load balancer of the servers: 443 from the allowed networks"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-servers-lb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "load_balancer" {
  for_each = toset(var.allowed_cidrs)

  security_group_id = aws_security_group.load_balancer.id
  description       = "HTTPS from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "load_balancer" {
  for_each = local.ports

  security_group_id            = aws_security_group.load_balancer.id
  description                  = "To the ${each.key} server"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = aws_security_group.servers.id
  tags                         = var.tags
}

resource "aws_security_group" "servers" {
  name        = "${var.name}-servers"
  description = "Prefect and MLflow servers: their ports from the load balancer only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-servers" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "servers" {
  for_each = local.ports

  security_group_id            = aws_security_group.servers.id
  description                  = "The ${each.key} server from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = aws_security_group.load_balancer.id
  tags                         = var.tags
}

# Out: HTTPS (ECR, S3, SSM, Secrets Manager, CloudWatch) and the database.
resource "aws_vpc_security_group_egress_rule" "servers_https" {
  security_group_id = aws_security_group.servers.id
  description       = "Outbound HTTPS to AWS APIs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "servers_database" {
  security_group_id            = aws_security_group.servers.id
  description                  = "PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.database.id
  tags                         = var.tags
}

resource "aws_security_group" "database" {
  name        = "${var.name}-servers-db"
  description = "The servers' PostgreSQL: 5432 from the server instance only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-servers-db" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "database" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the servers"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.servers.id
  tags                         = var.tags
}

# --- the server instance ----------------------------------------------------

data "aws_iam_policy_document" "servers_assume" {
  statement {
    sid     = "Ec2AssumeRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_iam_role" "servers" {
  name               = "${var.name}-servers"
  description        = "Prefect and MLflow servers: artifacts, image pulls, logs, database secret, boot parameters"
  assume_role_policy = data.aws_iam_policy_document.servers_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "servers_instance" {
  statement {
    sid       = "ArtifactList"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.bucket_arn]
  }

  statement {
    sid       = "ArtifactObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${var.bucket_arn}/mlartifacts/*"]
  }

  # ecr:GetAuthorizationToken has no resource-level permissions: it takes "*".
  statement {
    sid       = "EcrAuthToken"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "EcrPull"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [var.repository_arn]
  }

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [local.log_group_arn, "${local.log_group_arn}:log-stream:*"]
  }

  statement {
    sid       = "BootParameters"
    actions   = ["ssm:GetParameter"]
    resources = local.boot_parameter_arns
  }

  statement {
    sid       = "DatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_db_instance.servers.master_user_secret[0].secret_arn]
  }

  statement {
    sid       = "DecryptSecret"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.servers.arn]
  }
}

resource "aws_iam_policy" "servers" {
  name        = "${var.name}-servers"
  description = "Least privilege of the Prefect and MLflow server instance"
  policy      = data.aws_iam_policy_document.servers_instance.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "servers" {
  role       = aws_iam_role.servers.name
  policy_arn = aws_iam_policy.servers.arn
}

resource "aws_iam_instance_profile" "servers" {
  name = "${var.name}-servers"
  role = aws_iam_role.servers.name
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "servers" {
  name              = var.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.servers.arn
  tags              = var.tags
}

resource "aws_instance" "servers" {
  ami                    = data.aws_ssm_parameter.ami.value
  instance_type          = var.instance_type
  subnet_id              = var.private_subnet_ids[0]
  vpc_security_group_ids = [aws_security_group.servers.id]
  iam_instance_profile   = aws_iam_instance_profile.servers.name
  ebs_optimized          = true
  monitoring             = true

  associate_public_ip_address = false

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2 # the containers use the bridge network: one hop more
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_size           = var.root_volume_size_gb
    volume_type           = "gp3"
    encrypted             = true
    kms_key_id            = aws_kms_key.servers.arn
    delete_on_termination = true
  }

  user_data = base64encode(templatefile("${path.module}/servers.sh.tftpl", {
    region                = var.region
    registry              = split("/", var.image_repository_url)[0]
    image_repository      = var.image_repository_url
    log_group             = aws_cloudwatch_log_group.servers.name
    database_host         = aws_db_instance.servers.address
    database_secret       = aws_db_instance.servers.master_user_secret[0].secret_arn
    artifacts_destination = "s3://${var.bucket_name}/mlartifacts"
    prefect_url           = "https://${var.prefect_host}"
    mlflow_host           = var.mlflow_host
    auth_string_parameter = var.ssm_parameter_names.prefect_auth_string
    mlflow_parameter      = var.ssm_parameter_names.mlflow_credentials
    image_tag_parameter   = var.ssm_parameter_names.image_tag
  }))
  user_data_replace_on_change = true

  tags = merge(var.tags, { Name = "${var.name}-servers" })
}

# --- HTTPS load balancer ----------------------------------------------------

resource "aws_lb" "servers" {
  #checkov:skip=CKV_AWS_91:Access logs need a log bucket with an ELB delivery policy of its own; the servers log every request themselves to the encrypted log group.
  #checkov:skip=CKV2_AWS_28:Only allowed_cidrs reach the listener and both servers authenticate every request; attach a WAF web ACL where the account's policy asks for one.
  name                       = "${var.name}-servers"
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.load_balancer.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = true
  tags                       = var.tags
}

resource "aws_lb_target_group" "servers" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; the hop to the instance stays inside the VPC, in a security group that admits the load balancer only.
  for_each = local.ports

  name     = "${var.name}-${each.key}"
  port     = each.value
  protocol = "HTTP"
  vpc_id   = var.vpc_id

  health_check {
    path    = each.key == "prefect" ? "/api/health" : "/health"
    matcher = "200"
  }

  tags = var.tags
}

resource "aws_lb_target_group_attachment" "servers" {
  for_each = local.ports

  target_group_arn = aws_lb_target_group.servers[each.key].arn
  target_id        = aws_instance.servers.id
  port             = each.value
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.servers.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "unknown host"
      status_code  = "404"
    }
  }

  tags = var.tags
}

resource "aws_lb_listener_rule" "servers" {
  for_each = local.ports

  listener_arn = aws_lb_listener.https.arn
  priority     = each.key == "prefect" ? 10 : 20

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.servers[each.key].arn
  }

  condition {
    host_header {
      values = [local.hosts[each.key]]
    }
  }

  tags = var.tags
}

# --- where the workers find the servers --------------------------------------

resource "aws_ssm_parameter" "prefect_api_url" {
  #checkov:skip=CKV2_AWS_34:A URL, not a secret: a plain String the workers and people read; the credentials are SecureStrings put by hand.
  name        = var.ssm_parameter_names.prefect_api_url
  description = "Prefect API URL of the team stack (read by the workers at boot)"
  type        = "String"
  value       = "https://${var.prefect_host}/api"
  tags        = var.tags
}

resource "aws_ssm_parameter" "mlflow_tracking_uri" {
  #checkov:skip=CKV2_AWS_34:A URL, not a secret: a plain String the workers and people read; the credentials are SecureStrings put by hand.
  name        = var.ssm_parameter_names.mlflow_tracking_uri
  description = "MLflow tracking URI of the team stack (read by the workers at boot)"
  type        = "String"
  value       = "https://${var.mlflow_host}"
  tags        = var.tags
}
