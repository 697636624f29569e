# The addresses the notifier's and the auditor's errors alarms, the
# auditor's schedule and both event invoke configs had before the function
# module made them. moved.tftest.hcl applies this with a mock provider, then
# plans the module on the same state and checks that every ID survived.

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each            = toset(["notifier", "auditor"])
  alarm_name          = "rotor-${each.key}-errors"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 1
}

output "alarms" {
  description = "ARNs of the errors alarms at their old addresses."
  value       = { for k, a in aws_cloudwatch_metric_alarm.function_errors : k => a.arn }
}

resource "aws_cloudwatch_event_rule" "audit" {
  count               = 1
  schedule_expression = "rate(1 day)"
}

resource "aws_cloudwatch_event_target" "auditor" {
  count = 1
  rule  = aws_cloudwatch_event_rule.audit[0].name
  arn   = "arn:aws:lambda:eu-west-1:123456789012:function:rotor-auditor"
}

resource "aws_lambda_permission" "auditor_schedule" {
  count         = 1
  action        = "lambda:InvokeFunction"
  function_name = "rotor-auditor"
  principal     = "events.amazonaws.com"
}

resource "aws_lambda_function_event_invoke_config" "notifier" {
  count         = 1
  function_name = "rotor-notifier"
}

resource "aws_lambda_function_event_invoke_config" "auditor" {
  count         = 1
  function_name = "rotor-auditor"
}

output "schedule" {
  description = "IDs of the auditor's schedule rule (ARN), target and permission at their old addresses."
  value = {
    rule_arn      = aws_cloudwatch_event_rule.audit[0].arn
    target_id     = aws_cloudwatch_event_target.auditor[0].id
    permission_id = aws_lambda_permission.auditor_schedule[0].id
  }
}

output "invoke_configs" {
  description = "IDs of the event invoke configs at their old addresses."
  value       = { notifier = aws_lambda_function_event_invoke_config.notifier[0].id, auditor = aws_lambda_function_event_invoke_config.auditor[0].id }
}
