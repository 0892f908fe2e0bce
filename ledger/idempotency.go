package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"creditgate/auth"
	"creditgate/gid"
)

// A money-moving mutation given an idempotency key runs at most once per key
// and viewer. The key is claimed first, inside the mutation's transaction,
// by inserting it under a unique index:
//
//   - no earlier use: the insert succeeds, the work runs, and the key
//     commits (or rolls back) with it, so a failed attempt leaves no key;
//   - an earlier use committed: the insert does nothing, we roll back and
//     answer the stored outcome (or CONFLICT if the input differs);
//   - an earlier use still in flight: PostgreSQL makes our insert wait on
//     its unique-index entry until that transaction ends, so a concurrent
//     retry gets the first's result, not an error. (SQLite runs one writer
//     at a time, which gives the same.)

// Outcome is what a mutation stores under its key: the ids it produced.
// They also find the mutation's rows after a COMMIT of unknown outcome.
type Outcome struct {
	Transaction gid.ID `json:"t,omitempty"`
	Request     gid.ID `json:"r,omitempty"`
	Payment     gid.ID `json:"p,omitempty"`
	Invoice     gid.ID `json:"i,omitempty"`
	Hold        gid.ID `json:"h,omitempty"`
}

const maxKeyLen = 200

// key is a claimed or replayed idempotency key.
type key struct {
	id    gid.ID
	scope string
	key   string
	hash  string
}

// replayed is returned from inside a transaction when the key was used
// before; the caller rolls back and answers prior.
type replayed struct{}

func (replayed) Error() string { return "idempotency key replayed" }

// InputJSON is a mutation's input that writes its own fingerprint, without
// json.Marshal's reflection (a usage event's, once per event): AppendJSON
// appends to b exactly the bytes json.Marshal writes for it, or answers
// false when it cannot be sure to (json.Marshal then writes them).
type InputJSON interface {
	AppendJSON(b []byte) ([]byte, bool)
}

// newKey validates k and fingerprints the request: op plus its input.
func (l *Ledger) newKey(ctx context.Context, k *string, op string, input any, scope string) (*key, error) {
	if k == nil {
		return nil, nil
	}
	s := strings.TrimSpace(*k)
	if s == "" || len([]rune(s)) > maxKeyLen {
		return nil, l.refuse(BadInput, "idempotencyKey must be 1 to %d characters", maxKeyLen)
	}
	v, ok := auth.FromContext(ctx)
	if !ok && scope == "" {
		// A scope of its own (a provider's events) needs no viewer.
		return nil, l.refuse(Unauthenticated, "missing bearer token")
	}
	// The fingerprint is sha256 of op, a NUL and the input as
	// json.Marshal writes it: stored hashes are compared on every replay,
	// so these bytes never change.
	// Sized for a usage event's (about 90 bytes): a bigger one grows.
	b := make([]byte, 0, 128)
	b = append(append(b, op...), 0)
	head := len(b)
	written := false
	if a, ok := input.(InputJSON); ok {
		b, written = a.AppendJSON(b)
	}
	if !written {
		body, err := json.Marshal(input)
		if err != nil {
			return nil, fmt.Errorf("fingerprinting %s: %w", op, err)
		}
		b = append(b[:head], body...)
	}
	sum := sha256.Sum256(b)
	if scope == "" {
		scope = string(v.Role) + "|" + v.UserID + "|" + v.AgencyID + "|" + v.AccountID
	}
	return &key{
		scope: scope,
		key:   s,
		hash:  hex.EncodeToString(sum[:]),
	}, nil
}

// claim inserts the key inside tx; if it was used before, it returns a
// *replayed error.
func (l *Ledger) claim(ctx context.Context, tx *Tx, k *key) error {
	if k == nil {
		return nil
	}
	k.id = gid.New(gid.Idempotency)
	rows, err := tx.QueryContext(ctx, l.Rebind(`
		INSERT INTO idempotency_keys (id, scope, "key", request_hash, result, created_at)
		VALUES (?, ?, ?, ?, '', ?)
		ON CONFLICT (scope, "key") DO NOTHING
		RETURNING id`), k.id, k.scope, k.key, k.hash, l.now())
	if err != nil {
		return fmt.Errorf("claiming idempotency key: %w", err)
	}
	inserted := rows.Next()
	err = errors.Join(rows.Err(), rows.Close())
	if err != nil {
		return fmt.Errorf("claiming idempotency key: %w", err)
	}
	if inserted {
		return nil
	}
	return &replayed{}
}

// record stores the outcome under the claimed key, in the same transaction.
func (l *Ledger) record(ctx context.Context, tx *Tx, k *key, o Outcome) error {
	if k == nil {
		return nil
	}
	b, _ := json.Marshal(o)
	_, err := tx.ExecContext(ctx, l.Rebind(`UPDATE idempotency_keys SET result = ? WHERE id = ?`), string(b), k.id)
	if err != nil {
		return fmt.Errorf("recording idempotency result: %w", err)
	}
	return nil
}

// prior reads the committed outcome of k after a replay.
func (l *Ledger) prior(ctx context.Context, k *key) (Outcome, error) {
	var o Outcome
	rows, err := l.db.QueryContext(ctx, l.Rebind(`
		SELECT request_hash, result FROM idempotency_keys WHERE scope = ? AND "key" = ?`), k.scope, k.key)
	if err != nil {
		return o, fmt.Errorf("reading idempotency key: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return o, fmt.Errorf("idempotency key vanished: %w", rows.Err())
	}
	var hash, result string
	if err := rows.Scan(&hash, &result); err != nil {
		return o, fmt.Errorf("reading idempotency key: %w", err)
	}
	if hash != k.hash {
		return o, l.refuse(Conflict, "idempotencyKey %q was already used with a different input", k.key)
	}
	if err := json.Unmarshal([]byte(result), &o); err != nil {
		return o, fmt.Errorf("decoding idempotency result: %w", err)
	}
	return o, nil
}

// work is a mutation's work inside its transaction (or its request's
// savepoint in a batch): the outcome to store under its key.
type work func(ctx context.Context, tx *Tx) (Outcome, error)

// once runs w in a transaction guarded by k (which may be nil). On a
// replay it returns (prior outcome, true, nil) and w's effects are gone.
// A COMMIT of unknown outcome that did commit is a success (landed).
func (l *Ledger) once(ctx context.Context, k *key, w work) (Outcome, bool, error) {
	var out Outcome
	err := l.InTx(ctx, func(tx *Tx) error {
		o, err := l.onceIn(ctx, tx, k, w)
		out = o
		return err
	})
	var r *replayed
	if errors.As(err, &r) {
		o, err := l.prior(ctx, k)
		return o, true, l.nothingDone(err)
	}
	if err != nil && l.landed(ctx, err, k, out) {
		return out, false, nil
	}
	return out, false, err
}

// onceIn claims k, runs w and records its outcome under k, all in tx
// (the caller's transaction, or a request's savepoint in a batch). A key
// used before is a *replayed error: the caller undoes the work and answers
// the prior outcome.
func (l *Ledger) onceIn(ctx context.Context, tx *Tx, k *key, w work) (Outcome, error) {
	if err := l.claim(ctx, tx, k); err != nil {
		return Outcome{}, err
	}
	o, err := w(ctx, tx)
	if err != nil {
		return Outcome{}, err
	}
	return o, l.record(ctx, tx, k, o)
}
