//go:build !cgo || noyara

package main

import (
	"fmt"
	"os"

	"github.com/edr-lab/edr/detect/yara"
)

// Builds without YARA say so on every start, so that nobody mistakes a
// missing YARA verdict for a clean one.
func init() {
	buildFeatures = append(buildFeatures, "yara: "+yara.ErrCompiledOut.Error())
	fmt.Fprintln(os.Stderr, "edr: warning:", yara.ErrCompiledOut)
}
