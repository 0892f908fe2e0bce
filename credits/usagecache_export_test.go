package credits

import "creditgate/gid"

// UsageKept says whether the service and the account are kept in memory
// for recordUsage (tests only).
func (s *Service) UsageKept(service, account gid.ID) (svc, acc bool) {
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	_, svc = s.usage.services[service]
	_, acc = s.usage.accounts[account]
	return svc, acc
}
