package main

import (
	"testing"
	"time"
)

func TestLoadConfigLimits(t *testing.T) {
	env := map[string]string{
		"GRAPHQL_MAX_DEPTH": "8", "GRAPHQL_MAX_COMPLEXITY": "off", "GRAPHQL_TIMEOUT": "3s",
		"RATE_LIMIT_SUBJECT": "5", "RATE_LIMIT_IP": "off",
	}
	c, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	l := c.GraphQL
	if l.MaxDepth != 8 || l.MaxComplexity != -1 || l.MaxFields != 0 || l.Timeout != 3*time.Second {
		t.Fatalf("limits %+v", l)
	}
	if r := l.RateLimit; r.SubjectRate != 5 || r.SubjectBurst != 11 || r.IPRate != -1 {
		t.Fatalf("rate limits %+v", r)
	}
}
