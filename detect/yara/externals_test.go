package yara

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExternalsForPaths(t *testing.T) {
	assert.Equal(t, Externals{Filename: "a.DLL", Filepath: `C:\x`, Extension: ".dll"}, ExternalsFor(`C:\x\a.DLL`, nil, ""))
	assert.Equal(t, Externals{Filename: "run.sh", Filepath: "/tmp", Extension: ".sh", Owner: "root"}, ExternalsFor("/tmp/run.sh", []byte("#!"), "root"))
	assert.Equal(t, Externals{Filename: "noext"}, ExternalsFor("noext", nil, ""))
}
