//go:build tools

// This file pins the modules edr's packages use, so that parallel work on
// different packages does not keep editing go.mod. It is never compiled.
package edr

import (
	_ "github.com/0xrawsec/golang-etw/etw"
	_ "github.com/BurntSushi/toml"
	_ "github.com/bradleyjkemp/sigma-go"
	_ "github.com/cockroachdb/datadriven"
	_ "github.com/hillu/go-yara/v4"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/parquet-go/parquet-go"
	_ "github.com/stretchr/testify/require"
	_ "github.com/urfave/cli/v2"
	_ "golang.org/x/term"
	_ "www.velocidex.com/golang/evtx"
)
