// Package config names the environment variables rotor's functions read.
//
// The names of every environment variable a rotor function reads are declared
// here and nowhere else: the Terraform modules are checked against FunctionEnv
// by a test, so a renamed setting cannot silently stop reaching a function.
// The package is a leaf: the notifier and auditor import it without pulling
// in the rotator. Loading the rotator's settings lives in rotatorconfig; each
// loader fails with an error naming the variable and never falls back to a
// weaker setting on a bad value.
package config
