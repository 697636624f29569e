package awslocal_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// TestLabelRules starts each case from the same baseline: version 1 created
// as AWSCURRENT, version 2 put (so 1 is AWSPREVIOUS, 2 AWSCURRENT), version 3
// put with [AWSPENDING]. Each case makes one call and checks the labels.
func TestLabelRules(t *testing.T) {
	t.Parallel()
	t1, t2, t3, t4 := token(1), token(2), token(3), token(4)
	type call func(ctx context.Context, sm *secretsmanager.Client) error
	usvs := func(stage, remove, move string) call {
		return func(ctx context.Context, sm *secretsmanager.Client) error {
			in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String(stage)}
			if remove != "" {
				in.RemoveFromVersionId = aws.String(remove)
			}
			if move != "" {
				in.MoveToVersionId = aws.String(move)
			}
			_, err := sm.UpdateSecretVersionStage(ctx, in)
			return err
		}
	}
	putv := func(tok, value string, stages ...string) call {
		return func(ctx context.Context, sm *secretsmanager.Client) error {
			in := &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tok), SecretString: aws.String(value)}
			if stages != nil {
				in.VersionStages = stages
			}
			_, err := sm.PutSecretValue(ctx, in)
			return err
		}
	}
	base := map[string][]string{t1: {"AWSPREVIOUS"}, t2: {"AWSCURRENT"}, t3: {"AWSPENDING"}}
	for name, tc := range map[string]struct {
		call    call
		want    map[string][]string // nil: unchanged from base
		code    string
		message string
	}{
		"baseline (no-op repeat of put 3)": {call: putv(t3, "v3", "AWSPENDING")},
		"put without stages moves AWSCURRENT and abandons AWSPENDING": {call: putv(t4, "v4"),
			want: map[string][]string{t2: {"AWSPREVIOUS"}, t4: {"AWSCURRENT"}}},
		"put with custom stage leaves AWSCURRENT": {call: putv(t4, "v4", "blue"),
			want: map[string][]string{t1: {"AWSPREVIOUS"}, t2: {"AWSCURRENT"}, t3: {"AWSPENDING"}, t4: {"blue"}}},
		"put with AWSPENDING takes it from its holder": {call: putv(t4, "v4", "AWSPENDING"),
			want: map[string][]string{t1: {"AWSPREVIOUS"}, t2: {"AWSCURRENT"}, t4: {"AWSPENDING"}}},
		"put with AWSCURRENT moves AWSPREVIOUS too": {call: putv(t4, "v4", "AWSCURRENT", "x"),
			want: map[string][]string{t2: {"AWSPREVIOUS"}, t3: {"AWSPENDING"}, t4: {"AWSCURRENT", "x"}}},
		"put same token different value": {call: putv(t3, "other", "AWSPENDING"), code: "ResourceExistsException"},
		"move AWSCURRENT keeps AWSPENDING on the target": {call: usvs("AWSCURRENT", t2, t3),
			want: map[string][]string{t2: {"AWSPREVIOUS"}, t3: {"AWSCURRENT", "AWSPENDING"}}},
		"move AWSCURRENT without RemoveFrom": {call: usvs("AWSCURRENT", "", t3), code: "InvalidParameterException",
			message: "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version " + t2 + ", so you must explicitly reference that version in RemoveFromVersionId."},
		"move AWSCURRENT with the wrong RemoveFrom": {call: usvs("AWSCURRENT", t1, t3), code: "InvalidParameterException"},
		"move AWSCURRENT onto the current version":  {call: usvs("AWSCURRENT", "", t2)},
		"move AWSPENDING needs RemoveFrom":          {call: usvs("AWSPENDING", "", t1), code: "InvalidParameterException"},
		"remove AWSPENDING": {call: usvs("AWSPENDING", t3, ""),
			want: map[string][]string{t1: {"AWSPREVIOUS"}, t2: {"AWSCURRENT"}}},
		"remove a label the version lacks": {call: usvs("AWSPENDING", t1, ""), code: "InvalidParameterException"},
		"add a custom label":               {call: usvs("green", "", t1), want: map[string][]string{t1: {"AWSPREVIOUS", "green"}, t2: {"AWSCURRENT"}, t3: {"AWSPENDING"}}},
		"move AWSPREVIOUS": {call: usvs("AWSPREVIOUS", t1, t3),
			want: map[string][]string{t2: {"AWSCURRENT"}, t3: {"AWSPENDING", "AWSPREVIOUS"}}},
		"unknown MoveTo version":        {call: usvs("AWSPENDING", t3, token(99)), code: "InvalidParameterException"},
		"unknown RemoveFrom version":    {call: usvs("AWSPENDING", token(99), ""), code: "InvalidParameterException"},
		"remove AWSCURRENT only":        {call: usvs("AWSCURRENT", t2, ""), code: "InvalidParameterException"},
		"neither RemoveFrom nor MoveTo": {call: usvs("AWSPENDING", "", ""), code: "InvalidParameterException"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, sm := setup(t)
			create(t, sm, "s", "v1")
			put(t, sm, "s", t2, "v2")
			put(t, sm, "s", t3, "v3", "AWSPENDING")
			wantLabels(t, sm, "s", base)
			err := tc.call(ctxT(t), sm)
			if tc.code != "" {
				wantAPIError(t, err, tc.code, tc.message)
				wantLabels(t, sm, "s", base)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == nil {
				want = base
			}
			wantLabels(t, sm, "s", want)
		})
	}
}

func TestDeprecatedVersions(t *testing.T) {
	t.Parallel()
	_, sm := setup(t)
	create(t, sm, "dep", "v1")
	put(t, sm, "dep", token(2), "v2")
	put(t, sm, "dep", token(3), "v3") // 1 loses AWSPREVIOUS: deprecated
	wantLabels(t, sm, "dep", map[string][]string{token(2): {"AWSPREVIOUS"}, token(3): {"AWSCURRENT"}})
	l, err := sm.ListSecretVersionIds(ctxT(t), &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("dep")})
	if err != nil || len(l.Versions) != 2 {
		t.Fatalf("ListSecretVersionIds = %+v, %v; want 2 versions", l, err)
	}
	l, err = sm.ListSecretVersionIds(ctxT(t), &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("dep"), IncludeDeprecated: aws.Bool(true)})
	if err != nil || len(l.Versions) != 3 {
		t.Fatalf("with IncludeDeprecated = %+v, %v; want 3 versions", l, err)
	}
	for _, v := range l.Versions {
		if aws.ToString(v.VersionId) == token(1) && v.VersionStages != nil {
			t.Fatalf("deprecated version listed with VersionStages %v", v.VersionStages)
		}
	}
	g, err := sm.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("dep"), VersionId: aws.String(token(1))})
	if err != nil || aws.ToString(g.SecretString) != "v1" || len(g.VersionStages) != 0 {
		t.Fatalf("deprecated version by id = %+v, %v", g, err)
	}
	ls, err := sm.ListSecrets(ctxT(t), &secretsmanager.ListSecretsInput{})
	if err != nil || len(ls.SecretList) != 1 || len(ls.SecretList[0].SecretVersionsToStages) != 2 {
		t.Fatalf("ListSecrets = %+v, %v", ls, err)
	}
	// Pagination.
	p1, err := sm.ListSecretVersionIds(ctxT(t), &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("dep"), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(2)})
	if err != nil || len(p1.Versions) != 2 || p1.NextToken == nil {
		t.Fatalf("page 1 = %+v, %v", p1, err)
	}
	p2, err := sm.ListSecretVersionIds(ctxT(t), &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("dep"), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(2), NextToken: p1.NextToken})
	if err != nil || len(p2.Versions) != 1 || p2.NextToken != nil {
		t.Fatalf("page 2 = %+v, %v", p2, err)
	}
}
