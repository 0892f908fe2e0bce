package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"

	"creditgate/gid"
)

// idMixin gives an entity an opaque prefixed ID (see package gid).
type idMixin struct {
	mixin.Schema
	prefix string
}

func (m idMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").
			GoType(gid.ID("")).
			DefaultFunc(gid.NewFunc(m.prefix)).
			MaxLen(40).
			Immutable(),
	}
}

// createdMixin records when a row was made.
type createdMixin struct{ mixin.Schema }

func (createdMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(now).Immutable(),
	}
}

func now() time.Time { return time.Now().UTC() }
