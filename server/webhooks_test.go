package main

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/ent"
	"creditgate/gid"
	"creditgate/graph"
)

// webhookEndpointOf makes an endpoint of agency A (a public address: it is
// never sent to here).
func webhookEndpointOf(t *testing.T, a *testAPI) *ent.WebhookEndpoint {
	t.Helper()
	w, err := a.svc.CreateWebhookEndpoint(asRole(auth.RoleAgencyAdmin, a.fx.AgencyA, ""), credits.NewWebhookEndpoint{URL: "https://93.184.216.34/hooks"})
	if err != nil {
		t.Fatal(err)
	}
	return w.Endpoint
}

// webhookDeliveryOf makes a failed delivery to an endpoint of agency A.
func webhookDeliveryOf(t *testing.T, a *testAPI) *ent.WebhookDelivery {
	t.Helper()
	ep := webhookEndpointOf(t, a)
	sys := credits.System(context.Background())
	d, err := a.svc.DB().WebhookDelivery.Create().SetEndpointID(ep.ID).SetAgencyID(a.fx.AgencyA).
		SetEventID(gid.New(gid.WebhookEvent)).SetMessageID("msg_test").SetEventType("balance.low").
		SetPayload(`{"type":"balance.low"}`).SetStatus("FAILED").SetAttempts(3).Save(sys)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const createEndpoint = `mutation($u: String!, $ag: ID, $ev: [WebhookEventType!]){
	createWebhookEndpoint(input:{url: $u, agencyId: $ag, events: $ev, description: "CRM"}) {
		secret endpoint { id url events enabled secretPrefix agency { id } } } }`

// Agency admins manage their agency's endpoints, system admins any agency's
// or platform-wide ones; client roles and services are FORBIDDEN and
// another agency's endpoint NOT_FOUND, each with the database unchanged.
// The secret is in the answer of creation and rotation only.
func TestWebhookEndpointsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		url := "https://93.184.216.34/hooks"
		before := snapshot(t, a)
		for name, tok := range map[string]string{
			"owner": a.owner(), "client": a.client(), "service": a.token(auth.RoleService, a.fx.AgencyA, ""),
		} {
			wantRefused(t, a.gql(tok, createEndpoint, map[string]any{"u": url}), "FORBIDDEN", name)
		}
		wantRefused(t, a.gql(a.agencyAdmin(), createEndpoint, map[string]any{"u": url, "ag": a.fx.AgencyB}), "NOT_FOUND", "another agency")
		wantRefused(t, a.gql(a.agencyAdmin(), createEndpoint, map[string]any{"u": "ftp://x.example/"}), "BAD_USER_INPUT", "scheme")
		wantUnchanged(t, a, before, "refused creations")

		var made struct {
			C struct {
				Secret   string
				Endpoint struct {
					ID, URL, SecretPrefix string
					Events                []string
					Enabled               bool
					Agency                *struct{ ID string }
				}
			} `json:"createWebhookEndpoint"`
		}
		a.gql(a.agencyAdmin(), createEndpoint, map[string]any{"u": url, "ev": []string{"BALANCE_LOW", "REQUEST_REVIEWED"}}).decode(t, &made)
		ep := made.C.Endpoint
		if !strings.HasPrefix(made.C.Secret, "whsec_") || !strings.HasPrefix(made.C.Secret, ep.SecretPrefix) || len(ep.SecretPrefix) >= len(made.C.Secret)/2 ||
			ep.Agency == nil || ep.Agency.ID != string(a.fx.AgencyA) || !ep.Enabled || strings.Join(ep.Events, ",") != "BALANCE_LOW,REQUEST_REVIEWED" {
			t.Fatalf("made %+v", made.C)
		}
		var platform struct {
			C struct {
				Endpoint struct{ Agency *struct{ ID string } }
			} `json:"createWebhookEndpoint"`
		}
		a.gql(a.sysAdmin(), createEndpoint, map[string]any{"u": url}).decode(t, &platform)
		if platform.C.Endpoint.Agency != nil {
			t.Fatal("a system admin's endpoint without agencyId has an agency")
		}

		// Agency B's admin: NOT_FOUND for each operation, nothing changed.
		other := a.token(auth.RoleAgencyAdmin, a.fx.AgencyB, "")
		d := webhookDeliveryOf(t, a)
		before = snapshot(t, a)
		for what, q := range map[string]string{
			"update": `mutation($e: ID!){ updateWebhookEndpoint(input:{endpointId: $e, enabled: false}) { id } }`,
			"rotate": `mutation($e: ID!){ rotateWebhookSecret(input:{endpointId: $e}) { secret } }`,
			"node":   `query($e: ID!){ node(id: $e) { id } }`,
		} {
			r := a.gql(other, q, map[string]any{"e": ep.ID})
			if what == "node" {
				if !strings.Contains(string(r.Data), `"node":null`) && r.code() != "NOT_FOUND" {
					t.Errorf("node of another agency's endpoint: %s %v", r.Data, r.Errors)
				}
				continue
			}
			wantRefused(t, r, "NOT_FOUND", what)
		}
		wantRefused(t, a.gql(other, `mutation($d: ID!){ redeliverWebhook(input:{deliveryId: $d}) { id } }`, map[string]any{"d": d.ID}), "NOT_FOUND", "redeliver")
		wantRefused(t, a.gql(a.owner(), `mutation($d: ID!){ redeliverWebhook(input:{deliveryId: $d}) { id } }`, map[string]any{"d": d.ID}), "FORBIDDEN", "redeliver by the owner")
		wantUnchanged(t, a, before, "another agency's endpoint")

		// Rotation shows the new secret once; no later answer holds either.
		var rot struct {
			R struct{ Secret string } `json:"rotateWebhookSecret"`
		}
		a.gql(a.agencyAdmin(), `mutation($e: ID!){ rotateWebhookSecret(input:{endpointId: $e}) { secret } }`, map[string]any{"e": ep.ID}).decode(t, &rot)
		if rot.R.Secret == "" || rot.R.Secret == made.C.Secret {
			t.Fatal("rotation did not show a new secret")
		}
		for _, r := range []gqlResponse{
			a.gql(a.agencyAdmin(), `{ webhookEndpoints { totalCount edges { node { id url description events enabled disabledReason secretPrefix createdAt
				deliveries { totalCount edges { node { id messageId eventType status attempts payload endpoint { id } } } } } } } }`, nil),
			a.gql(a.sysAdmin(), `{ webhookEndpoints(first: 10) { totalCount edges { node { id secretPrefix } } } }`, nil),
			a.gql(a.agencyAdmin(), `mutation($e: ID!){ updateWebhookEndpoint(input:{endpointId: $e, description: ""}) { id description secretPrefix } }`, map[string]any{"e": ep.ID}),
			a.gql(a.sysAdmin(), `{ auditLog(first: 50) { edges { node { action summary } } } }`, nil),
		} {
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %v", r.Errors)
			}
			for _, s := range []string{made.C.Secret, rot.R.Secret, strings.TrimPrefix(rot.R.Secret, "whsec_")} {
				if strings.Contains(string(r.Data), s) {
					t.Fatalf("a secret in a later answer: %s", r.Data)
				}
			}
		}
		var list struct {
			L struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			} `json:"webhookEndpoints"`
		}
		a.gql(a.agencyAdmin(), `{ webhookEndpoints { totalCount edges { node { id } } } }`, nil).decode(t, &list)
		if list.L.TotalCount != 2 { // made, and the delivery's
			t.Fatalf("agency admin lists %d endpoints, want 2 (not the platform's)", list.L.TotalCount)
		}
		var all struct {
			L struct{ TotalCount int } `json:"webhookEndpoints"`
		}
		a.gql(a.sysAdmin(), `{ webhookEndpoints { totalCount } }`, nil).decode(t, &all)
		if all.L.TotalCount != 3 {
			t.Fatalf("system admin lists %d endpoints, want 3", all.L.TotalCount)
		}
		wantRefused(t, a.gql(a.owner(), `{ webhookEndpoints { totalCount } }`, nil), "FORBIDDEN", "owner lists")
	})
}

type privateResolver struct{}

func (privateResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if host == "crm.internal.example" {
		return []netip.Addr{netip.MustParseAddr("192.168.10.20")}, nil
	}
	return nil, errors.New("no such host")
}

// In production mode (https only, no private addresses) endpoints at
// 127.0.0.1, 169.254.169.254 and a name resolving to a private address
// are refused, with the database unchanged.
func TestWebhookSSRFProduction(t *testing.T) {
	for _, kind := range []string{"postgres", "sqlite"} {
		t.Run(kind, func(t *testing.T) {
			a := newAPIWith(t, kind, Config{Production: true, WebhookResolver: privateResolver{},
				GraphQL: graph.Limits{RateLimit: graph.RateLimit{SubjectRate: -1, IPRate: -1}}})
			before := snapshot(t, a)
			for _, u := range []string{"https://127.0.0.1/hooks", "https://169.254.169.254/latest/meta-data/", "https://crm.internal.example/hooks",
				"https://localhost/hooks", "http://93.184.216.34/hooks", "https://user:pw@93.184.216.34/"} {
				wantRefused(t, a.gql(a.agencyAdmin(), createEndpoint, map[string]any{"u": u}), "BAD_USER_INPUT", u)
			}
			wantUnchanged(t, a, before, "SSRF")
			if r := a.gql(a.agencyAdmin(), createEndpoint, map[string]any{"u": "https://93.184.216.34/hooks"}); len(r.Errors) > 0 {
				t.Fatalf("a public https endpoint refused: %v", r.Errors)
			}
		})
	}
}
