//go:build cgo && !noyara

package yara

// #cgo pkg-config: yara
// #include <yara/libyara.h>
import "C"
import "fmt"

// LibraryVersion is the libyara version edr was built against.
func LibraryVersion() string {
	return fmt.Sprintf("%d.%d.%d", C.YR_MAJOR_VERSION, C.YR_MINOR_VERSION, C.YR_MICRO_VERSION)
}
