package credits

import "creditgate/ent"

// SetWebhookAfterClaim runs f after each delivery is claimed; an error
// abandons the claim there, as a worker that died would.
func (s *Service) SetWebhookAfterClaim(f func(d *ent.WebhookDelivery) error) {
	s.webhooks.afterClaim = f
}
