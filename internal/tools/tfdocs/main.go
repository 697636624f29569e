// Command tfdocs rewrites the generated input/output tables (package
// internal/tfdocs) of each Terraform module directory given:
//
//	go run ./internal/tools/tfdocs terraform/modules/* terraform/examples/*
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/rotorhq/rotor/internal/tfdocs"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tfdocs MODULE_DIR...")
		os.Exit(2)
	}
	status := 0
	for _, dir := range os.Args[1:] {
		current, want, err := tfdocs.Check(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tfdocs:", err)
			status = 1
			continue
		}
		if current {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(want), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "tfdocs:", err)
			status = 1
			continue
		}
		fmt.Println("updated", filepath.Join(dir, "README.md"))
	}
	os.Exit(status)
}
