package ledger

import (
	"entgo.io/ent/dialect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"creditgate/tracing"
)

// Attributes of a transaction's span (InTx).
const (
	dbSystemKey  = attribute.Key("db.system.name")
	txOutcomeKey = attribute.Key("creditgate.tx.outcome") // commit, rollback or commit_unknown
)

// endTxSpan ends the span of a transaction that InTx ran: its database,
// how it ended and, when it did not commit, why. Off (a no-op span), it
// does nothing but End.
func (l *Ledger) endTxSpan(span trace.Span, err error) {
	if span.IsRecording() {
		system := "postgresql"
		if l.dialect == dialect.SQLite {
			system = "sqlite"
		}
		outcome := "commit"
		switch {
		case isCommitUnknown(err):
			outcome = "commit_unknown"
		case err != nil:
			outcome = "rollback"
		}
		span.SetAttributes(dbSystemKey.String(system), txOutcomeKey.String(outcome))
	}
	tracing.End(span, err)
}
