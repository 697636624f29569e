# The addresses the notifier's and auditor's errors alarms had before the
# function module made them. moved.tftest.hcl applies this with a mock
# provider, then plans the module on the same state and checks that the
# alarms' ARNs survived.

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
