# owls-q4d on AWS: the core data plane (modules/core) plus the compute that
# runs the daemon: a launch template (IMDSv2 only, the daemon's instance
# profile, user data that installs owls-q4d and writes /etc/owls-q4.conf) and
# an auto-scaling group. Apply once; the daemon never changes any of it.

module "core" {
  source                     = "./modules/core"
  name_prefix                = var.name_prefix
  archive_bucket_name        = var.archive_bucket_name
  artifacts_bucket_name      = var.artifacts_bucket_name
  longest_job_seconds        = var.longest_job_seconds
  visibility_timeout_seconds = var.visibility_timeout_seconds
  max_receive_count          = var.max_receive_count
  enable_s3_notification     = var.enable_s3_notification
  worker_threads             = var.worker_threads
  log_level                  = var.log_level
}

# Official Debian 12 AMIs are published by Debian's account 136693071363.
data "aws_ami" "debian" {
  count       = var.ami_id == "" ? 1 : 0
  most_recent = true
  owners      = ["136693071363"]
  filter {
    name   = "name"
    values = ["debian-12-${var.architecture}-*"]
  }
  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

data "aws_ami" "selected" {
  filter {
    name   = "image-id"
    values = [var.ami_id != "" ? var.ami_id : data.aws_ami.debian[0].id]
  }
}

# No ingress. Egress: HTTPS to S3/SQS (or their VPC endpoints) and, at boot,
# HTTP(S) to the Debian mirrors and the package/git URL. Instance metadata
# and the VPC resolver are not filtered by security groups.
resource "aws_security_group" "daemon" {
  name_prefix = "${var.name_prefix}-daemon-"
  description = "owls-q4d: egress only"
  vpc_id      = var.vpc_id
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "daemon" {
  for_each          = { "https-v4" = ["0.0.0.0/0", 443], "http-v4" = ["0.0.0.0/0", 80] }
  security_group_id = aws_security_group.daemon.id
  description       = each.key
  ip_protocol       = "tcp"
  cidr_ipv4         = each.value[0]
  from_port         = each.value[1]
  to_port           = each.value[1]
}

resource "aws_launch_template" "daemon" {
  name_prefix            = "${var.name_prefix}-daemon-"
  description            = "owls-q4d worker"
  image_id               = data.aws_ami.selected.id
  instance_type          = var.instance_type
  update_default_version = true
  vpc_security_group_ids = [aws_security_group.daemon.id]

  iam_instance_profile {
    arn = module.core.instance_profile_arn
  }

  # IMDSv2 only; hop limit 1 keeps the credentials away from containers.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = var.imds_hop_limit
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = data.aws_ami.selected.root_device_name
    ebs {
      volume_size           = var.root_volume_gb
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  user_data = base64encode(templatefile("${path.module}/user-data.sh.tftpl", {
    package_url      = var.package_url
    git_url          = var.git_url
    git_ref          = var.git_ref
    runtime_packages = join(" ", var.runtime_packages)
    owls_q4_conf     = module.core.owls_q4_conf
  }))

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name_prefix}-daemon" }
  }

  lifecycle {
    precondition {
      condition     = (var.package_url == "") != (var.git_url == "")
      error_message = "Set exactly one of package_url and git_url."
    }
  }
}

resource "aws_autoscaling_group" "daemon" {
  name                      = "${var.name_prefix}-daemon"
  min_size                  = var.asg_min_size
  max_size                  = var.asg_max_size
  desired_capacity          = var.asg_desired_capacity
  vpc_zone_identifier       = var.subnet_ids
  health_check_type         = "EC2"
  health_check_grace_period = 600
  # Scale-in sends SIGTERM through systemd; the unit waits up to 90 s.
  default_instance_warmup = 300

  launch_template {
    id      = aws_launch_template.daemon.id
    version = aws_launch_template.daemon.latest_version
  }

  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 50
    }
  }

  tag {
    key                 = "app"
    value               = "owls-q4d"
    propagate_at_launch = true
  }

  lifecycle {
    precondition {
      condition     = var.asg_min_size <= var.asg_desired_capacity && var.asg_desired_capacity <= var.asg_max_size
      error_message = "Need asg_min_size <= asg_desired_capacity <= asg_max_size."
    }
  }
}
