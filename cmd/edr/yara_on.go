//go:build cgo && !noyara

package main

import "github.com/edr-lab/edr/detect/yara"

func init() {
	buildFeatures = append(buildFeatures, "yara: libyara "+yara.LibraryVersion()+" (go-yara v4)")
}
