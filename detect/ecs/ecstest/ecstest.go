// Package ecstest validates ECS documents in tests against the shared
// ecs_flat.yml (ECS 9.4.0). The schema is loaded once per test binary; when
// the shared material is absent the checks are skipped with a message.
package ecstest

import (
	"sync"
	"testing"

	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/internal/testutil"
)

// SchemaPath is where ecs_flat.yml lives below the shared directory.
const SchemaPath = "etw/ecs/ecs_flat.yml"

var (
	once   sync.Once
	schema *ecs.Schema
	err    error
)

// Schema returns the shared ECS schema, skipping the test when it is absent.
func Schema(t testing.TB) *ecs.Schema {
	t.Helper()
	path := testutil.Shared(t, SchemaPath)
	once.Do(func() { schema, err = ecs.LoadSchema(path) })
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return schema
}

// Validate checks every line against ECS with the given custom namespaces
// and fails the test on the first invalid line, naming the problems.
func Validate(t testing.TB, custom []string, lines ...[]byte) {
	t.Helper()
	v := &ecs.Validator{Schema: Schema(t), Custom: custom}
	for i, l := range lines {
		if errs := v.ValidateLine(l); len(errs) > 0 {
			t.Fatalf("line %d is not valid ECS: %v\n%s", i+1, errs, l)
		}
	}
}
