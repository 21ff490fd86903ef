package bench

import (
	"time"

	"golang.org/x/sys/unix"
)

// cpuTime returns the CPU time the process has used, in all its threads, in
// user and kernel mode, and whether the platform could tell.
func cpuTime() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
