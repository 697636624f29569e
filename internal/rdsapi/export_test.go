package rdsapi

import "time"

// SetClock makes c read the time from now (a machine whose clock is off).
func SetClock(c *Client, now func() time.Time) { c.now = now }
