package rotation

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rotorhq/rotor/events"
)

// TagBaseUser pins the base user of an alternating-users secret (events owns
// the name and the value's format, events.BaseUserPin).
const TagBaseUser = events.TagBaseUser

// SecretLister is what SecretsPinnedTo needs from Secrets Manager.
type SecretLister interface {
	ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
}

// CheckPin compares the pin a secret carries (its TagBaseUser value, ""
// when it has none) with the pin its current document leads to. A secret
// without a pin passes: the caller pins it. The error says what to do when
// the change is intended; it holds user and server names, never a secret.
func CheckPin(pinned, pin string) error {
	if pinned == "" || pinned == pin {
		return nil
	}
	return fmt.Errorf("the secret is pinned to base user %q (tag %s) but its document now leads to %q: the admin acts only on the pinned user on the pinned server. "+
		"If the change is intended (the database moved, the application changed users), an administrator updates the tag; whoever may write the secret's value may not (see docs/security.md)", pinned, TagBaseUser, pin)
}

// SecretsPinnedTo returns the ARNs of the secrets other than self (an ARN)
// whose TagBaseUser is pin, following every page. Secrets scheduled for
// deletion are left out, as ListSecrets leaves them out.
func SecretsPinnedTo(ctx context.Context, api SecretLister, pin, self string) ([]string, error) {
	in := &secretsmanager.ListSecretsInput{Filters: []types.Filter{
		{Key: types.FilterNameStringTypeTagKey, Values: []string{TagBaseUser}},
		// tag-value is a prefix match, on any of the secret's tags: the
		// exact pairing is checked below.
		{Key: types.FilterNameStringTypeTagValue, Values: []string{pin}},
	}}
	var out []string
	for {
		page, err := api.ListSecrets(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list secrets pinned to the same base user (ListSecrets): %w", err)
		}
		for _, s := range page.SecretList {
			if arn := aws.ToString(s.ARN); arn != self && events.TagOf(s.Tags, TagBaseUser) == pin {
				out = append(out, arn)
			}
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	slices.Sort(out)
	return out, nil
}

// SharedPinError is the refusal when other secrets rotate the same base user:
// each would reset the user the other's AWSCURRENT names.
func SharedPinError(pin string, others []string) error {
	return fmt.Errorf("base user %q is also rotated by %s (tag %s): two alternating-users secrets sharing a base user reset each other's AWSCURRENT; give each application its own base user",
		pin, strings.Join(others, ", "), TagBaseUser)
}

// pinBase holds the secret to the base user it rotates before the admin acts
// on it: a pinned secret whose document leads elsewhere is refused, another
// secret pinned to the same user is refused, and an unpinned secret is pinned
// (one TagResource, at its first alternating rotation). One ListSecrets per
// call.
func (inv *invocation) pinBase(ctx context.Context, pin string) error {
	pinned := events.TagOf(inv.desc.Tags, TagBaseUser)
	if err := CheckPin(pinned, pin); err != nil {
		return err
	}
	others, err := SecretsPinnedTo(ctx, inv.r.opts.Secrets, pin, inv.arn)
	if err != nil {
		return err
	}
	if len(others) > 0 {
		return SharedPinError(pin, others)
	}
	if pinned != "" {
		return nil
	}
	_, err = inv.r.opts.Secrets.TagResource(ctx, &secretsmanager.TagResourceInput{
		SecretId: aws.String(inv.arn),
		Tags:     []types.Tag{{Key: aws.String(TagBaseUser), Value: aws.String(pin)}},
	})
	if err != nil {
		return fmt.Errorf("pin the base user (TagResource %s): %w", TagBaseUser, err)
	}
	inv.desc.Tags = append(inv.desc.Tags, types.Tag{Key: aws.String(TagBaseUser), Value: aws.String(pin)})
	inv.log.Info("base user pinned", "pin", pin)
	return nil
}
