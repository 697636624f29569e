package rotation

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Character classes, as Secrets Manager's GetRandomPassword defines them.
const (
	lowercase   = "abcdefghijklmnopqrstuvwxyz"
	uppercase   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits      = "0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// DefaultPasswordLength is AWS's templates' default.
const DefaultPasswordLength = 32

// PasswordPolicy is the password rule, with the meaning of AWS's templates'
// settings of the same names. The zero value is not usable; start from
// DefaultPasswordPolicy.
type PasswordPolicy struct {
	Length int
	// ExcludeCharacters, when nil, is the engine's default set.
	ExcludeCharacters       *string
	ExcludeNumbers          bool
	ExcludePunctuation      bool
	ExcludeUppercase        bool
	ExcludeLowercase        bool
	RequireEachIncludedType bool
}

// DefaultPasswordPolicy is 32 characters of every class, one of each at
// least, with the engine's default exclusions.
func DefaultPasswordPolicy() PasswordPolicy {
	return PasswordPolicy{Length: DefaultPasswordLength, RequireEachIncludedType: true}
}

// Validate checks the policy can produce a password.
func (p PasswordPolicy) Validate() error {
	_, err := p.classes("")
	return err
}

func (p PasswordPolicy) classes(engineExclude string) ([]string, error) {
	if p.Length < 1 || p.Length > 4096 {
		return nil, fmt.Errorf("password length %d is out of range 1-4096", p.Length)
	}
	exclude := engineExclude
	if p.ExcludeCharacters != nil {
		exclude = *p.ExcludeCharacters
	}
	var classes []string
	for _, c := range []struct {
		set string
		off bool
	}{{lowercase, p.ExcludeLowercase}, {uppercase, p.ExcludeUppercase}, {digits, p.ExcludeNumbers}, {punctuation, p.ExcludePunctuation}} {
		if c.off {
			continue
		}
		kept := strings.Map(func(r rune) rune {
			if strings.ContainsRune(exclude, r) {
				return -1
			}
			return r
		}, c.set)
		if kept != "" {
			classes = append(classes, kept)
		}
	}
	if len(classes) == 0 {
		return nil, errors.New("password policy excludes every character")
	}
	if p.RequireEachIncludedType && p.Length < len(classes) {
		return nil, fmt.Errorf("password length %d is too short to include each of %d character types", p.Length, len(classes))
	}
	return classes, nil
}

// Generate returns a password drawn with crypto/rand, uniformly from the
// allowed characters; with RequireEachIncludedType it holds at least one
// character of each included class. engineExclude applies when the policy's
// ExcludeCharacters is nil.
func (p PasswordPolicy) Generate(engineExclude string) (string, error) {
	classes, err := p.classes(engineExclude)
	if err != nil {
		return "", err
	}
	all := strings.Join(classes, "")
	out := make([]byte, 0, p.Length)
	if p.RequireEachIncludedType {
		for _, c := range classes {
			b, err := pick(c)
			if err != nil {
				return "", err
			}
			out = append(out, b)
		}
	}
	for len(out) < p.Length {
		b, err := pick(all)
		if err != nil {
			return "", err
		}
		out = append(out, b)
	}
	// Shuffle so the required characters are not always in front.
	for i := len(out) - 1; i > 0; i-- {
		j, err := randInt(i + 1)
		if err != nil {
			return "", err
		}
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

func pick(set string) (byte, error) {
	i, err := randInt(len(set))
	if err != nil {
		return 0, err
	}
	return set[i], nil
}

func randInt(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("random: %w", err)
	}
	return int(v.Int64()), nil
}
