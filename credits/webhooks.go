package credits

import (
	"context"

	"creditgate/ent"
	"creditgate/gid"
)

// NewWebhookEndpoint describes createWebhookEndpoint.
type NewWebhookEndpoint struct {
	AgencyID    *gid.ID
	URL         string
	Description *string
	Events      []string // wire names ("balance.low"); empty: all
}

// WebhookSecret is an endpoint with its secret, shown once.
type WebhookSecret struct {
	Endpoint *ent.WebhookEndpoint
	Secret   string
}

// CreateWebhookEndpoint adds an endpoint.
func (s *Service) CreateWebhookEndpoint(ctx context.Context, in NewWebhookEndpoint) (*WebhookSecret, error) {
	return nil, newErr(CodeInternal, "webhooks are not built yet")
}

// WebhookEndpointUpdate describes updateWebhookEndpoint.
type WebhookEndpointUpdate struct {
	EndpointID  gid.ID
	URL         *string
	Description *string
	Events      []string // nil: unchanged; empty: all
	Enabled     *bool
}

// UpdateWebhookEndpoint changes an endpoint.
func (s *Service) UpdateWebhookEndpoint(ctx context.Context, in WebhookEndpointUpdate) (*ent.WebhookEndpoint, error) {
	return nil, newErr(CodeInternal, "webhooks are not built yet")
}

// RotateWebhookSecret replaces an endpoint's secret.
func (s *Service) RotateWebhookSecret(ctx context.Context, id gid.ID) (*WebhookSecret, error) {
	return nil, newErr(CodeInternal, "webhooks are not built yet")
}

// RedeliverWebhook sends a delivery again, now.
func (s *Service) RedeliverWebhook(ctx context.Context, id gid.ID) (*ent.WebhookDelivery, error) {
	return nil, newErr(CodeInternal, "webhooks are not built yet")
}

// WebhookEndpoints lists endpoints: agency admins their agency's, system
// admins all (or one agency's).
func (s *Service) WebhookEndpoints(ctx context.Context, agencyID *gid.ID, page PageArgs) (*Page[*ent.WebhookEndpoint], error) {
	return nil, newErr(CodeInternal, "webhooks are not built yet")
}

// WebhookDeliveries lists an endpoint's deliveries, newest first.
func (s *Service) WebhookDeliveries(ctx context.Context, ep *ent.WebhookEndpoint, status *string, page PageArgs) (*Page[*ent.WebhookDelivery], error) {
	return nil, newErr(CodeInternal, "webhooks are not built yet")
}

// WebhookEndpointOf is a delivery's endpoint.
func (s *Service) WebhookEndpointOf(ctx context.Context, d *ent.WebhookDelivery) (*ent.WebhookEndpoint, error) {
	return nil, newErr(CodeInternal, "webhooks are not built yet")
}
