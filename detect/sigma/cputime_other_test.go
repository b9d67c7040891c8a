//go:build !linux

package sigma_test

import "time"

func threadCPU() time.Duration { return 0 }
func lockThread() func()       { return func() {} }

func processCPU() time.Duration { return 0 }
