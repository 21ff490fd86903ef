//go:build !linux

package bench

import "time"

// cpuTime reports false: only Linux's CPU time is read.
func cpuTime() (time.Duration, bool) { return 0, false }
