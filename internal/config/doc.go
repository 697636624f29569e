// Package config reads rotor's function settings from the environment.
//
// The names of every environment variable a rotor function reads are declared
// here and nowhere else: the Terraform modules are checked against FunctionEnv
// by a test, so a renamed setting cannot silently stop reaching a function.
// Parsing fails with an error naming the variable; nothing falls back to a
// weaker setting on a bad value.
package config
