package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"creditgate/credits"
	"creditgate/demo"
	"creditgate/web"
)

// printDemo loads the demo data (once) and prints a token per role. With the
// development secret it returns the demo users for the web pages' sign-in
// picker (nil otherwise).
func printDemo(ctx context.Context, svc *credits.Service, secret []byte, devSecret bool, base string, webUI bool, w io.Writer) ([]web.DemoUser, error) {
	f, err := demo.Load(ctx, svc)
	if err != nil {
		return nil, err
	}
	if !devSecret {
		fmt.Fprintln(w, "Demo data loaded. Tokens are not printed: JWT_SECRET is your own; sign tokens with it.")
		return nil, nil
	}
	toks, err := demo.Tokens(f, secret, 12*time.Hour)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "\ncreditgate is running with demo data.\n\n  GraphiQL:  %s/\n  GraphQL:   %s/graphql\n", base, base)
	if webUI {
		fmt.Fprintf(w, "  Portal:    %s/portal/     (client portal: sign in as a demo client)\n  Dashboard: %s/dashboard/  (agency dashboard: sign in as the agency admin)\n", base, base)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Bearer tokens (valid 12 hours); paste one into GraphiQL's Headers tab as")
	fmt.Fprintln(w, `{"Authorization": "Bearer <token>"}`)
	for _, t := range toks {
		fmt.Fprintf(w, "\n  %s:\n  %s\n", t.Who, t.Token)
	}
	fmt.Fprintf(w, "\nTry it:\n  curl -s %s/graphql -H 'Content-Type: application/json' \\\n    -H \"Authorization: Bearer $TOKEN\" \\\n    -d '{\"query\":\"{ balance { available currency } }\"}'\n\n", base)
	return demoUsers(toks), nil
}

// demoUsers are the demo tokens as the web pages' sign-in picker offers them.
func demoUsers(toks []demo.Token) []web.DemoUser {
	out := make([]web.DemoUser, 0, len(toks))
	for _, t := range toks {
		out = append(out, web.DemoUser{Who: t.Who, Role: string(t.Role), Token: t.Token})
	}
	return out
}
