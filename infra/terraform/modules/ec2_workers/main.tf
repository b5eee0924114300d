# Prefect workers on EC2: an autoscaling group of instances that run the flows
# image as a systemd service (`prefect worker start --pool ec2`). No inbound
# access at all; IMDSv2 only; encrypted volumes; logs to their own log group.

data "aws_ssm_parameter" "ami" {
  name = var.ami_ssm_parameter
}

resource "aws_cloudwatch_log_group" "worker" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with service keys; a customer managed key adds a key policy and a monthly charge, and the workers never log credentials.
  name              = var.log_group_name
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_security_group" "worker" {
  name        = "${var.name}-worker"
  description = "Prefect workers: no inbound access; outbound HTTPS only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-worker" })

  lifecycle {
    create_before_destroy = true
  }
}

# Egress only. The workers call out (Prefect API, ECR, S3, SSM, CloudWatch,
# MLflow); nothing calls in. Add ports here for a tracking server on another port.
resource "aws_vpc_security_group_egress_rule" "worker" {
  for_each = toset([for port in var.egress_tcp_ports : tostring(port)])

  security_group_id = aws_security_group.worker.id
  description       = "Outbound TCP ${each.value}"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = var.egress_cidr
  tags              = var.tags
}

resource "aws_launch_template" "worker" {
  name_prefix            = "${var.name}-worker-"
  description            = "Prefect worker (pool ${var.work_pool}) running the flows image"
  image_id               = data.aws_ssm_parameter.ami.value
  instance_type          = var.instance_type
  update_default_version = true
  ebs_optimized          = true

  iam_instance_profile {
    name = var.instance_profile_name
  }

  network_interfaces {
    associate_public_ip_address = var.associate_public_ip_address
    delete_on_termination       = true
    security_groups             = [aws_security_group.worker.id]
  }

  # IMDSv2 only. A hop limit of 1 is enough: the worker container uses the
  # host network, so it reaches the metadata service in one hop.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = var.root_volume_size_gb
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = var.detailed_monitoring
  }

  user_data = base64encode(templatefile("${path.module}/user_data.sh.tftpl", {
    region              = var.region
    registry            = split("/", var.image_repository_url)[0]
    image_repository    = var.image_repository_url
    work_pool           = var.work_pool
    log_group           = aws_cloudwatch_log_group.worker.name
    api_url_parameter   = var.ssm_parameter_names.prefect_api_url
    api_key_parameter   = var.ssm_parameter_names.prefect_api_key
    auth_parameter      = var.ssm_parameter_names.prefect_auth_string
    mlflow_parameter    = var.ssm_parameter_names.mlflow_tracking_uri
    mlflow_credentials  = var.ssm_parameter_names.mlflow_credentials
    image_tag_parameter = var.ssm_parameter_names.image_tag
  }))

  # Provider default_tags do not reach instances an autoscaling group launches.
  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-worker" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = "${var.name}-worker" })
  }

  tags = var.tags
}

resource "aws_autoscaling_group" "worker" {
  name_prefix         = "${var.name}-worker-"
  min_size            = var.min_size
  max_size            = var.max_size
  desired_capacity    = var.desired_capacity
  vpc_zone_identifier = var.subnet_ids
  health_check_type   = "EC2"

  launch_template {
    id      = aws_launch_template.worker.id
    version = aws_launch_template.worker.latest_version
  }

  # A new launch template version (new AMI, new user-data) replaces the workers
  # a few at a time. A flow run on a replaced worker is marked crashed by Prefect.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 50
    }
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = "${var.name}-worker" })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}
