output "issuer_function_name" {
  description = "The issuer: `rotor lease --function <this> --role app_ro` for a human, lambdaissuer.New(lambdaClient, <this>) in an application."
  value       = module.leases.issuer_function_name
}

output "invoke_policy_json" {
  description = "The policy to attach to any further caller of the issuer."
  value       = module.leases.invoke_policy_json
}
