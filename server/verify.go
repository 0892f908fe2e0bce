package main

import (
	"context"
	"io"

	"creditgate/credits"
)

// verify checks the ledger invariants of the configured database.
func verify(ctx context.Context, cfg Config, w io.Writer) error {
	if cfg.DBStatementTimeout == 0 {
		cfg.DBStatementTimeout = -1 // a whole ledger's checks may take long
	}
	database, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer database.Close()
	return credits.New(database.Client, database.Dialect, nil).Verify(ctx, w)
}
