# The addresses the functions' security group and egress rules had before
# this module called ../database-egress, and their errors alarms, the
# reaper's schedule and its event invoke config before the function module
# made them. moved.tftest.hcl applies this with a mock provider, then plans
# the module on the same state and checks that every ID survived. The
# counts are those of that test's variables.

resource "aws_security_group" "functions" {
  count  = 1
  vpc_id = "vpc-1"
}

resource "aws_vpc_security_group_egress_rule" "database_sg" {
  count             = 2
  security_group_id = aws_security_group.functions[0].id
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/16"
}

resource "aws_vpc_security_group_egress_rule" "database_cidr" {
  count             = 2
  security_group_id = aws_security_group.functions[0].id
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/16"
}

resource "aws_vpc_security_group_egress_rule" "https" {
  count             = 1
  security_group_id = aws_security_group.functions[0].id
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.0/16"
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each            = toset(["issuer", "reaper"])
  alarm_name          = "rotor-${each.key}-errors"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 1
}

output "alarms" {
  description = "ARNs of the errors alarms at their old addresses."
  value       = { for k, a in aws_cloudwatch_metric_alarm.function_errors : k => a.arn }
}

output "security_group" {
  description = "ID of the security group at its old address."
  value       = aws_security_group.functions[0].id
}

output "rules" {
  description = "IDs of the egress rules at their old addresses, by their kind in ../database-egress."
  value = {
    database_sg   = aws_vpc_security_group_egress_rule.database_sg[*].id
    database_cidr = aws_vpc_security_group_egress_rule.database_cidr[*].id
    https         = aws_vpc_security_group_egress_rule.https[*].id
  }
}

resource "aws_cloudwatch_event_rule" "reap" {
  count               = 1
  schedule_expression = "rate(1 day)"
}

resource "aws_cloudwatch_event_target" "reaper" {
  count = 1
  rule  = aws_cloudwatch_event_rule.reap[0].name
  arn   = "arn:aws:lambda:eu-west-1:123456789012:function:rotor-reaper"
}

resource "aws_lambda_permission" "reaper_schedule" {
  count         = 1
  action        = "lambda:InvokeFunction"
  function_name = "rotor-reaper"
  principal     = "events.amazonaws.com"
}

resource "aws_lambda_function_event_invoke_config" "reaper" {
  count         = 1
  function_name = "rotor-reaper"
}

output "schedule" {
  description = "IDs of the reaper's schedule rule (ARN), target and permission at their old addresses."
  value = {
    rule_arn      = aws_cloudwatch_event_rule.reap[0].arn
    target_id     = aws_cloudwatch_event_target.reaper[0].id
    permission_id = aws_lambda_permission.reaper_schedule[0].id
  }
}

output "invoke_configs" {
  description = "IDs of the event invoke configs at their old addresses."
  value       = { reaper = aws_lambda_function_event_invoke_config.reaper[0].id }
}
