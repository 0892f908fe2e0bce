package credits

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"creditgate/auth"
	"creditgate/ent"
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

// outcome is what a mutation stores under its key: the ids it produced.
type outcome struct {
	Transaction gid.ID `json:"t,omitempty"`
	Request     gid.ID `json:"r,omitempty"`
	Payment     gid.ID `json:"p,omitempty"`
	Invoice     gid.ID `json:"i,omitempty"`
}

const maxKeyLen = 200

// idemKey is a claimed or replayed key.
type idemKey struct {
	id    gid.ID
	scope string
	key   string
	hash  string
}

// replayed is returned from inside a transaction when the key was used
// before; the caller rolls back and answers prior.
type replayed struct{ prior outcome }

func (replayed) Error() string { return "idempotency key replayed" }

// newKey validates key and fingerprints the request: op plus its input.
func newKey(ctx context.Context, key *string, op string, input any) (*idemKey, error) {
	if key == nil {
		return nil, nil
	}
	k := strings.TrimSpace(*key)
	if k == "" || len([]rune(k)) > maxKeyLen {
		return nil, badInput("idempotencyKey must be 1 to %d characters", maxKeyLen)
	}
	v, err := viewerOf(ctx)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("fingerprinting %s: %w", op, err)
	}
	sum := sha256.Sum256(append([]byte(op+"\x00"), body...))
	return &idemKey{
		scope: scopeKey(v),
		key:   k,
		hash:  hex.EncodeToString(sum[:]),
	}, nil
}

func scopeKey(v *auth.Viewer) string {
	return string(v.Role) + "|" + v.UserID + "|" + v.AgencyID + "|" + v.AccountID
}

// claim inserts the key inside tx; if it was used before, it returns a
// *replayed error carrying the stored outcome, or CONFLICT.
func (s *Service) claim(ctx context.Context, tx *ent.Tx, k *idemKey) error {
	if k == nil {
		return nil
	}
	k.id = gid.New(gid.Idempotency)
	rows, err := tx.QueryContext(ctx, s.rebind(`
		INSERT INTO idempotency_keys (id, scope, "key", request_hash, result, created_at)
		VALUES (?, ?, ?, ?, '', ?)
		ON CONFLICT (scope, "key") DO NOTHING
		RETURNING id`), k.id, k.scope, k.key, k.hash, time.Now().UTC())
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
func (s *Service) record(ctx context.Context, tx *ent.Tx, k *idemKey, o outcome) error {
	if k == nil {
		return nil
	}
	b, _ := json.Marshal(o)
	_, err := tx.ExecContext(ctx, s.rebind(`UPDATE idempotency_keys SET result = ? WHERE id = ?`), string(b), k.id)
	if err != nil {
		return fmt.Errorf("recording idempotency result: %w", err)
	}
	return nil
}

// prior reads the committed outcome of k after a replay.
func (s *Service) prior(ctx context.Context, k *idemKey) (outcome, error) {
	var o outcome
	rows, err := s.db.QueryContext(ctx, s.rebind(`
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
		return o, newErr(CodeConflict, "idempotencyKey %q was already used with a different input", k.key)
	}
	if err := json.Unmarshal([]byte(result), &o); err != nil {
		return o, fmt.Errorf("decoding idempotency result: %w", err)
	}
	return o, nil
}

// once runs work in a transaction guarded by k (which may be nil). On a
// replay it returns (prior outcome, true, nil) and work's effects are gone.
// A COMMIT of unknown outcome that did commit is a success (landed).
func (s *Service) once(ctx context.Context, k *idemKey, work func(tx *ent.Tx) (outcome, error)) (outcome, bool, error) {
	var out outcome
	err := s.inTx(ctx, func(tx *ent.Tx) error {
		o, err := s.onceIn(ctx, tx, k, func(_ context.Context, tx *ent.Tx) (outcome, error) { return work(tx) })
		out = o
		return err
	})
	var r *replayed
	if errors.As(err, &r) {
		o, err := s.prior(ctx, k)
		return o, true, nothingDone(err)
	}
	if err != nil && s.landed(ctx, err, k, out) {
		return out, false, nil
	}
	return out, false, err
}

// onceIn claims k, runs work and records its outcome under k, all in tx
// (the caller's transaction, or a request's savepoint in a batch). A key
// used before is a *replayed error: the caller undoes the work and answers
// the prior outcome.
func (s *Service) onceIn(ctx context.Context, tx *ent.Tx, k *idemKey, work func(ctx context.Context, tx *ent.Tx) (outcome, error)) (outcome, error) {
	if err := s.claim(ctx, tx, k); err != nil {
		return outcome{}, err
	}
	o, err := work(ctx, tx)
	if err != nil {
		return outcome{}, err
	}
	return o, s.record(ctx, tx, k, o)
}
