# The workers' instance role, least privilege: its bucket, pulls from its
# repository, its own log group, and the SSM parameters it reads at boot.
# Every resource is named by ARN; the one "*" is ecr:GetAuthorizationToken.

data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition

  log_group_arn = "arn:${local.partition}:logs:${var.region}:${var.account_id}:log-group:${var.log_group_name}"

  ssm_parameter_arns = [
    for name in var.ssm_parameter_names :
    "arn:${local.partition}:ssm:${var.region}:${var.account_id}:parameter/${trimprefix(name, "/")}"
  ]
}

data "aws_iam_policy_document" "assume_ec2" {
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

resource "aws_iam_role" "worker" {
  name               = var.name
  description        = "Prefect workers on EC2: data bucket, image pulls, logs, boot parameters"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
  tags               = var.tags
}

data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "BucketList"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.bucket_arn]
  }

  statement {
    sid = "BucketObjects"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${var.bucket_arn}/*"]
  }

  # ecr:GetAuthorizationToken is an account-level call: it supports no
  # resource-level permissions, so IAM only accepts "*" for it. The token alone
  # pulls nothing; the EcrPull statement limits pulls to this repository.
  statement {
    sid       = "EcrAuthToken"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "EcrPull"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [var.repository_arn]
  }

  # Docker's awslogs driver names one stream per container, so the streams
  # of this one log group are matched with ":log-stream:*".
  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [local.log_group_arn, "${local.log_group_arn}:log-stream:*"]
  }

  # SecureString parameters encrypted with the AWS managed key aws/ssm need no
  # kms permission: that key's policy allows decrypts made through SSM.
  statement {
    sid       = "BootParameters"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = local.ssm_parameter_arns
  }
}

resource "aws_iam_policy" "worker" {
  name        = var.name
  description = "Least-privilege access of the Prefect workers"
  policy      = data.aws_iam_policy_document.worker.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "worker" {
  role       = aws_iam_role.worker.name
  policy_arn = aws_iam_policy.worker.arn
}

resource "aws_iam_instance_profile" "worker" {
  name = var.name
  role = aws_iam_role.worker.name
  tags = var.tags
}
