package db

// AmountColumns exposes the credit amount columns to the migration test.
func AmountColumns() map[string][]string {
	out := map[string][]string{}
	for _, t := range amountColumns {
		out[t.table] = t.columns
	}
	return out
}
