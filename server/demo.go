package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"creditgate/credits"
	"creditgate/demo"
)

// printDemo loads the demo data (once) and prints a token per role.
func printDemo(ctx context.Context, svc *credits.Service, secret []byte, devSecret bool, base string, w io.Writer) error {
	f, err := demo.Load(ctx, svc)
	if err != nil {
		return err
	}
	if !devSecret {
		fmt.Fprintln(w, "Demo data loaded. Tokens are not printed: JWT_SECRET is your own; sign tokens with it.")
		return nil
	}
	toks, err := demo.Tokens(f, secret, 12*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\ncreditgate is running with demo data.\n\n  GraphiQL:  %s/\n  GraphQL:   %s/graphql\n\n", base, base)
	fmt.Fprintln(w, "Bearer tokens (valid 12 hours); paste one into GraphiQL's Headers tab as")
	fmt.Fprintln(w, `{"Authorization": "Bearer <token>"}`)
	for _, t := range toks {
		fmt.Fprintf(w, "\n  %s:\n  %s\n", t.Who, t.Token)
	}
	fmt.Fprintf(w, "\nTry it:\n  curl -s %s/graphql -H 'Content-Type: application/json' \\\n    -H \"Authorization: Bearer $TOKEN\" \\\n    -d '{\"query\":\"{ balance { available currency } }\"}'\n\n", base)
	return nil
}
