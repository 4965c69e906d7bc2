package progress

import (
	"fmt"
	"math"
	"time"
)

// seconds converts seconds to a duration, saturating instead of overflowing.
func seconds(s float64) time.Duration {
	const limit = float64(math.MaxInt64 / time.Second)
	return time.Duration(min(s, limit) * float64(time.Second))
}

// formatHMS formats a duration, rounded to the nearest second, as h:mm:ss
// (hours unbounded: "27:46:40"). Negative durations read as 0:00:00.
func formatHMS(d time.Duration) string {
	s := int64(max(0, d.Round(time.Second)/time.Second))
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// formatRate formats units per second with three or more significant
// digits: "12345", "235", "45.6", "1.23"; a negative or non-finite rate
// (unknown) is "-".
func formatRate(r float64) string {
	switch {
	case r < 0 || math.IsNaN(r) || math.IsInf(r, 0):
		return "-"
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	default:
		return fmt.Sprintf("%.2f", r)
	}
}
