// Package graph translates GraphQL into calls on the credits domain: the
// resolvers parse arguments, call one domain method and shape the answer.
// Rules (who may do what, what moves money) live in package credits.
package graph

//go:generate go run github.com/99designs/gqlgen generate

import "creditgate/credits"

// Resolver is the root resolver; one per server.
type Resolver struct {
	Credits *credits.Service
}
