// Command hellosigterm is the bench's hello-world floor with the SIGTERM
// extension every rotor function registers (lambda.WithEnableSIGTERM): the
// difference between the two rows is what that registration costs at init.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.StartWithOptions(func(ctx context.Context, in map[string]any) (map[string]any, error) { return in, nil }, lambda.WithEnableSIGTERM(func() {}))
}
