package credits

import "time"

// SetBeforeCommit injects a failure just before COMMIT (tests only).
func (s *Service) SetBeforeCommit(f func() error) { s.beforeCommit = f }

// SetClock moves the service's clock (tests only).
func (s *Service) SetClock(now func() time.Time) { s.auto.Clock = now }
