package credits

// SetBeforeCommit injects a failure just before COMMIT (tests only).
func (s *Service) SetBeforeCommit(f func() error) { s.beforeCommit = f }
