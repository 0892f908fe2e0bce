package credits

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent/dialect"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/webhookdelivery"
	"creditgate/ent/webhookendpoint"
	"creditgate/events"
	"creditgate/gid"
	"creditgate/webhook"
)

// Outbound webhooks: endpoints are an agency's (or, made by a system admin
// without one, the platform's) and managed like API keys: agency admins
// their agency's, system admins any. Their secret is shown once, when made
// or rotated; it is kept (it must be at hand to sign) but no answer, log
// or audit event holds it again. What is sent, and how, is in outbox.go.

// WebhookEventTypes are the events, by their wire names, in the API's order.
var WebhookEventTypes = []string{
	"balance.low", "balance.depleted", "balance.recovered",
	"topup.succeeded", "topup.failed", "autotopup.paused",
	"request.created", "request.reviewed",
	"payment.succeeded", "payment.refunded",
	"hold.expired", "invoice.issued", "invoice.paid",
}

// WebhookOptions say where webhooks may go.
type WebhookOptions struct {
	// RequireHTTPS refuses http:// endpoints (production).
	RequireHTTPS bool
	// AllowPrivate lets endpoints reach loopback and private addresses
	// (WEBHOOK_ALLOW_PRIVATE: development and tests).
	AllowPrivate bool
	// Resolver looks hosts up; nil: the system's (tests make a name
	// resolve to a private address).
	Resolver webhook.Resolver
}

// UseWebhooks sets the policy of endpoints' URLs, checked when they are
// saved and again at each delivery. Until it is called, http is allowed
// and private addresses are refused.
func (s *Service) UseWebhooks(o WebhookOptions) {
	s.hooks().sender.Store(webhook.NewSender(webhook.Guard{RequireHTTPS: o.RequireHTTPS, AllowPrivate: o.AllowPrivate, Resolver: o.Resolver}))
}

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
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	var ag *ent.Agency
	if in.AgencyID != nil || v.Role != auth.RoleSystemAdmin {
		if ag, err = s.Agency(ctx, in.AgencyID); err != nil {
			return nil, err
		}
	}
	url, err := s.checkWebhookURL(ctx, in.URL)
	if err != nil {
		return nil, err
	}
	desc, err := cleanDescription(in.Description)
	if err != nil {
		return nil, err
	}
	evs, err := cleanEvents(in.Events)
	if err != nil {
		return nil, err
	}
	secret, prefix, err := webhook.NewSecret()
	if err != nil {
		return nil, err
	}
	id := gid.New(gid.WebhookEndpoint)
	var ep *ent.WebhookEndpoint
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		c := tx.WebhookEndpoint.Create().SetID(id).SetCreatedAt(s.clock().UTC()).SetURL(url).SetNillableDescription(desc).
			SetEvents(evs).SetSecret(secret).SetSecretPrefix(prefix).SetCreatedBy(v.UserID)
		a := Audit{Action: "createWebhookEndpoint", TargetID: id,
			Summary: fmt.Sprintf("created webhook endpoint %s to %s (%s)", id, url, eventsSummary(evs))}
		if ag != nil {
			c.SetAgencyID(ag.ID)
			a.AgencyID = ag.ID
		} else {
			a.Summary += ", platform-wide"
		}
		if ep, err = c.Save(ctx); err != nil {
			return fmt.Errorf("creating webhook endpoint: %w", err)
		}
		if err := s.audit(ctx, tx, a); err != nil { // never the secret
			return err
		}
		return s.endpointsChanged(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return &WebhookSecret{Endpoint: ep.Unwrap(), Secret: secret}, nil
}

// WebhookEndpointUpdate describes updateWebhookEndpoint.
type WebhookEndpointUpdate struct {
	EndpointID  gid.ID
	URL         *string
	Description *string
	Events      []string // nil: unchanged; empty: all
	Enabled     *bool
}

// UpdateWebhookEndpoint changes an endpoint. Turning it off fails its
// pending deliveries (they are not sent later by surprise); on again
// clears disabledReason and resends nothing (redeliverWebhook does).
func (s *Service) UpdateWebhookEndpoint(ctx context.Context, in WebhookEndpointUpdate) (*ent.WebhookEndpoint, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	ep, err := s.webhookEndpoint(ctx, in.EndpointID)
	if err != nil {
		return nil, err
	}
	var changes []string
	upd := func(u *ent.WebhookEndpointUpdateOne) {}
	if in.URL != nil {
		url, err := s.checkWebhookURL(ctx, *in.URL)
		if err != nil {
			return nil, err
		}
		changes = append(changes, "url "+url)
		upd = chain(upd, func(u *ent.WebhookEndpointUpdateOne) { u.SetURL(url) })
	}
	if in.Description != nil {
		desc, err := cleanDescription(in.Description)
		if err != nil {
			return nil, err
		}
		changes = append(changes, "description")
		upd = chain(upd, func(u *ent.WebhookEndpointUpdateOne) {
			if desc == nil {
				u.ClearDescription()
			} else {
				u.SetDescription(*desc)
			}
		})
	}
	if in.Events != nil {
		evs, err := cleanEvents(in.Events)
		if err != nil {
			return nil, err
		}
		changes = append(changes, "events "+eventsSummary(evs))
		upd = chain(upd, func(u *ent.WebhookEndpointUpdateOne) { u.SetEvents(evs) })
	}
	disabling := in.Enabled != nil && !*in.Enabled && ep.Enabled
	if in.Enabled != nil {
		if *in.Enabled {
			changes = append(changes, "enabled")
			upd = chain(upd, func(u *ent.WebhookEndpointUpdateOne) { u.SetEnabled(true).ClearDisabledReason() })
		} else if disabling {
			changes = append(changes, "disabled")
			upd = chain(upd, func(u *ent.WebhookEndpointUpdateOne) {
				u.SetEnabled(false).SetDisabledReason(truncate("disabled by "+v.UserID, 500))
			})
		}
	}
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		u := tx.WebhookEndpoint.UpdateOneID(ep.ID)
		upd(u)
		if err := u.Exec(ctx); err != nil {
			return fmt.Errorf("updating webhook endpoint: %w", err)
		}
		if disabling {
			if err := s.failPending(ctx, tx, ep.ID, "endpoint disabled"); err != nil {
				return err
			}
		}
		a := Audit{Action: "updateWebhookEndpoint", TargetID: ep.ID,
			Summary: fmt.Sprintf("updated webhook endpoint %s: %s", ep.ID, strings.Join(changes, ", "))}
		if len(changes) == 0 {
			a.Summary += "nothing"
		}
		if ep.AgencyID != nil {
			a.AgencyID = *ep.AgencyID
		}
		if err := s.audit(ctx, tx, a); err != nil {
			return err
		}
		return s.endpointsChanged(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return s.webhookEndpoint(ctx, ep.ID)
}

func chain(a, b func(*ent.WebhookEndpointUpdateOne)) func(*ent.WebhookEndpointUpdateOne) {
	return func(u *ent.WebhookEndpointUpdateOne) { a(u); b(u) }
}

// RotateWebhookSecret replaces an endpoint's secret at once: every later
// attempt, retries included, is signed with the new one.
func (s *Service) RotateWebhookSecret(ctx context.Context, id gid.ID) (*WebhookSecret, error) {
	if _, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	ep, err := s.webhookEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	secret, prefix, err := webhook.NewSecret()
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		if err := tx.WebhookEndpoint.UpdateOneID(ep.ID).SetSecret(secret).SetSecretPrefix(prefix).Exec(ctx); err != nil {
			return fmt.Errorf("rotating webhook secret: %w", err)
		}
		a := Audit{Action: "rotateWebhookSecret", TargetID: ep.ID,
			Summary: fmt.Sprintf("rotated the signing key of webhook endpoint %s", ep.ID)}
		if ep.AgencyID != nil {
			a.AgencyID = *ep.AgencyID
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	if ep, err = s.webhookEndpoint(ctx, id); err != nil {
		return nil, err
	}
	return &WebhookSecret{Endpoint: ep, Secret: secret}, nil
}

// RedeliverWebhook sends a delivery again, now, with the same message id.
// It retries as any delivery would, until 3 days after it was first made;
// past those, this one attempt only.
func (s *Service) RedeliverWebhook(ctx context.Context, id gid.ID) (*ent.WebhookDelivery, error) {
	if _, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	d, err := s.db.WebhookDelivery.Query().Where(webhookdelivery.ID(id)).WithEndpoint().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("webhook delivery")
	}
	if err != nil {
		return nil, fmt.Errorf("loading webhook delivery: %w", err)
	}
	if !d.Edges.Endpoint.Enabled {
		return nil, newErr(CodeNotEligible, "the endpoint is disabled: enable it first")
	}
	now := s.clock().UTC()
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		if err := tx.WebhookDelivery.UpdateOneID(d.ID).SetStatus(webhookdelivery.StatusPENDING).
			SetNextAttemptAt(now).ClearLockedUntil().Exec(ctx); err != nil {
			return fmt.Errorf("redelivering: %w", err)
		}
		a := Audit{Action: "redeliverWebhook", TargetID: d.ID,
			Summary: fmt.Sprintf("redelivering %s (%s, %s) to %s", d.ID, d.MessageID, d.EventType, d.EndpointID)}
		if d.AgencyID != nil {
			a.AgencyID = *d.AgencyID
		}
		if err := s.audit(ctx, tx, a); err != nil {
			return err
		}
		tx.OnCommit(wakeOnCommit(s))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.db.WebhookDelivery.Get(ctx, d.ID)
}

// WebhookEndpoints lists endpoints: agency admins their agency's, system
// admins all (or one agency's).
func (s *Service) WebhookEndpoints(ctx context.Context, agencyID *gid.ID, page PageArgs) (*Page[*ent.WebhookEndpoint], error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	q := s.db.WebhookEndpoint.Query()
	if agencyID != nil || v.Role != auth.RoleSystemAdmin {
		ag, err := s.Agency(ctx, agencyID)
		if err != nil {
			return nil, err
		}
		q.Where(webhookendpoint.AgencyID(ag.ID))
	}
	return paginate(ctx, page, createdCursors, byCreated(q, true, "webhook endpoints",
		func(e *ent.WebhookEndpoint) createdKey { return createdKey{e.CreatedAt, e.ID} }))
}

// WebhookDeliveries lists an endpoint's deliveries, newest first.
func (s *Service) WebhookDeliveries(ctx context.Context, ep *ent.WebhookEndpoint, status *string, page PageArgs) (*Page[*ent.WebhookDelivery], error) {
	q := s.db.WebhookDelivery.Query().Where(webhookdelivery.EndpointID(ep.ID))
	if status != nil {
		st := webhookdelivery.Status(*status)
		if err := webhookdelivery.StatusValidator(st); err != nil {
			return nil, badInput("status: unknown %q", truncate(*status, 20))
		}
		q.Where(webhookdelivery.StatusEQ(st))
	}
	return paginate(ctx, page, createdCursors, byCreated(q, true, "webhook deliveries",
		func(d *ent.WebhookDelivery) createdKey { return createdKey{d.CreatedAt, d.ID} }))
}

// WebhookEndpointOf is a delivery's endpoint.
func (s *Service) WebhookEndpointOf(ctx context.Context, d *ent.WebhookDelivery) (*ent.WebhookEndpoint, error) {
	if d.Edges.Endpoint != nil {
		return d.Edges.Endpoint, nil
	}
	return s.webhookEndpoint(ctx, d.EndpointID)
}

// webhookEndpoint loads an endpoint in the viewer's scope (staff only:
// NOT_FOUND to everyone else, and to another agency's admins).
func (s *Service) webhookEndpoint(ctx context.Context, id gid.ID) (*ent.WebhookEndpoint, error) {
	ep, err := s.db.WebhookEndpoint.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, notFound("webhook endpoint")
	}
	if err != nil {
		return nil, fmt.Errorf("loading webhook endpoint: %w", err)
	}
	return ep, nil
}

func (s *Service) checkWebhookURL(ctx context.Context, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if err := s.hooks().guard().CheckURL(ctx, raw, true); err != nil {
		return "", badInput("url: %v", err)
	}
	return raw, nil
}

func cleanDescription(d *string) (*string, error) {
	if d == nil {
		return nil, nil
	}
	t := strings.TrimSpace(*d)
	if t == "" {
		return nil, nil
	}
	if len([]rune(t)) > 500 {
		return nil, badInput("description is longer than 500 characters")
	}
	return &t, nil
}

// cleanEvents checks wire names and puts them in the API's order, once
// each; none means every event.
func cleanEvents(in []string) ([]string, error) {
	for _, e := range in {
		if !slices.Contains(WebhookEventTypes, e) {
			return nil, badInput("events: unknown event %q", truncate(e, 40))
		}
	}
	out := []string{}
	for _, e := range WebhookEventTypes {
		if slices.Contains(in, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func eventsSummary(evs []string) string {
	if len(evs) == 0 {
		return "every event"
	}
	return strings.Join(evs, ", ")
}

// endpointsChanged tells every instance, once tx commits, to re-read which
// endpoints want what (the outbox's cache): this one at once, the others
// by pg_notify.
func (s *Service) endpointsChanged(ctx context.Context, tx *ent.Tx) error {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			s.hooks().cache.invalidate() // also when the outcome is unknown: a re-read costs little
			return err
		})
	})
	if s.dialect != dialect.Postgres {
		return nil
	}
	ev := events.Event{Webhooks: &struct{}{}}
	if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", events.Channel, ev.Encode()); err != nil {
		return fmt.Errorf("announcing the webhook endpoints' change: %w", err)
	}
	return nil
}
