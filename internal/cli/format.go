package cli

import (
	"fmt"
	"time"
)

// formatSize returns n bytes in a short human-readable form, in powers of
// 1024: "812 B", "1.4 KiB", "23 MiB".
func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	value, prefix := float64(n)/unit, 0
	for value >= unit && prefix < 4 {
		value /= unit
		prefix++
	}
	name := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}[prefix]
	if value < 10 {
		return fmt.Sprintf("%.1f %s", value, name)
	}
	return fmt.Sprintf("%.0f %s", value, name)
}

// formatAge returns the time elapsed from t to now in its largest whole
// unit: "40s", "12m", "5h", "3d", "2y" (365 days). A time in the future,
// from a clock that disagrees, is "0s".
func formatAge(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	case d < 365*24*time.Hour:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	default:
		return fmt.Sprintf("%dy", int(d/(365*24*time.Hour)))
	}
}
