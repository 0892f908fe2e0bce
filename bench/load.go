package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// scenario is one kind of request, run against the gateway and as a
// pgbench script doing the same minimal SQL.
type scenario struct {
	read    bool
	hot     bool
	op      string // pay, service, usage, usage-batch, hold, balance, history
	ceiling string // pgbench script
	// accept is the only error code the scenario tolerates: any other
	// fails the bench (after the report). Empty: errors are only reported.
	accept string
}

var scenarios = map[string]scenario{
	"pay-spread":         {op: "pay", ceiling: "pay"},
	"pay-hot":            {op: "pay", hot: true, ceiling: "pay"},
	"buy-service-spread": {op: "service", ceiling: "service"},
	"buy-service-hot":    {op: "service", hot: true, ceiling: "service"},
	"read-balance":       {op: "balance", read: true, ceiling: "balance"},
	"read-history":       {op: "history", read: true, hot: true, ceiling: "history"},
	// Metered usage by a service: one event a call, or a call of
	// usageBatch events over consecutive accounts (its ceiling debits
	// the same number of wallets with set-based SQL in one transaction).
	"usage-single": {op: "usage", ceiling: "service"},
	"usage-batch":  {op: "usage-batch", ceiling: "usage-batch"},
	// A hold's lifecycle on the hot account, by a service: createHold,
	// then 4 partial captures and a final one that releases the rest
	// (holdLifecycle). One tx is one lifecycle of 6 mutations.
	"hold-hot": {op: "hold", hot: true, ceiling: "hold", accept: "INSUFFICIENT_CREDITS"},
}

// usageBatch is how many events a usage-batch call carries.
const usageBatch = 100

const (
	payMutation     = `mutation($i: ID!) { payInvoiceWithCredit(input: {invoiceId: $i}) { transaction { id runningBalance } } }`
	serviceMutation = `mutation($s: ID!) { buyServiceWithCredit(input: {serviceId: $s}) { transaction { id runningBalance } } }`
	balanceQuery    = `{ balance { available } }`
	historyQuery    = `{ history(first: 50) { edges { node { id type amount runningBalance createdAt } } } }`
	usageMutation   = `mutation($ev: [UsageEventInput!]!) { recordUsage(input: {events: $ev}) { recorded refused results { error { code } } } }`
	holdMutation    = `mutation($a: ID!, $x: Decimal!) { createHold(input: {accountId: $a, amount: $x, currency: "USD"}) { hold { id } } }`
	captureMutation = `mutation($h: ID!, $x: Decimal!, $f: Boolean!) { captureHold(input: {holdId: $h, amount: $x, final: $f}) { transaction { id runningBalance } } }`
)

// A hold-hot lifecycle holds holdAmount and captures captureAmount
// holdCaptures times, the last capture final: it releases the rest
// (0.01). The ceiling script moves the same amounts in cents.
const (
	holdAmount    = "0.06"
	captureAmount = "0.01"
	holdCaptures  = 5
)

// runResult is one timed run against the gateway.
type runResult struct {
	ok       int
	errors   map[string]int
	elapsed  time.Duration
	p50, p99 time.Duration
	cpu      cpuUse
}

func (r runResult) tps() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// loadGateway runs clients concurrent loops of the scenario's request for d.
func (e *env) loadGateway(ctx context.Context, sc scenario, clients int, d time.Duration) (runResult, error) {
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer httpc.CloseIdleConnections()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      = map[string]int{}
		ok        atomic.Int64
		fatal     error
		wg        sync.WaitGroup
	)
	pid := e.gateway.Process.Pid
	cpu := sampleCPU(pid)
	deadline := time.Now().Add(d)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				var (
					code string
					err  error
					t0   time.Time
				)
				if sc.op == "hold" { // a unit of several requests
					t0 = time.Now()
					code, err = e.holdLifecycle(ctx, httpc)
				} else {
					token, query, vars, ferr := e.request(sc)
					if ferr != nil {
						mu.Lock()
						fatal = ferr
						mu.Unlock()
						return
					}
					t0 = time.Now()
					code, err = e.send(ctx, httpc, token, query, vars, nil)
				}
				local = append(local, time.Since(t0))
				switch {
				case err != nil:
					mu.Lock()
					errs["transport"]++
					mu.Unlock()
				case code != "":
					mu.Lock()
					errs[code]++
					mu.Unlock()
				default:
					ok.Add(1)
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	use := cpu.since(pid)
	if fatal != nil {
		return runResult{}, fatal
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	return runResult{
		ok: int(ok.Load()), errors: errs, elapsed: elapsed,
		p50: percentile(latencies, 0.50), p99: percentile(latencies, 0.99), cpu: use,
	}, nil
}

var spreadNext, hotNext, accountNext, usageKey atomic.Int64

// request picks the next request of the scenario: a fresh invoice for
// payments (round-robin over accounts when spread), the next account for
// services and reads.
func (e *env) request(sc scenario) (string, string, map[string]any, error) {
	var (
		token, query string
		vars         map[string]any
	)
	switch sc.op {
	case "pay":
		list, next := e.spreadInvs, &spreadNext
		if sc.hot {
			list, next = e.hotInvs, &hotNext
		}
		i := next.Add(1) - 1
		if int(i) >= len(list) {
			return "", "", nil, fmt.Errorf("ran out of seeded invoices (%d): use a shorter -duration", len(list))
		}
		token, query, vars = list[i].token, payMutation, map[string]any{"i": list[i].id}
	case "service":
		cl := e.hot
		if !sc.hot {
			cl = e.spread[int(accountNext.Add(1))%len(e.spread)]
		}
		token, query, vars = cl.token, serviceMutation, map[string]any{"s": e.service}
	case "usage", "usage-batch":
		n := 1
		if sc.op == "usage-batch" {
			n = usageBatch
		}
		first := int(accountNext.Add(int64(n))) - n
		events := make([]map[string]any, n)
		for i := range events {
			events[i] = map[string]any{
				"accountId": e.spread[(first+i)%len(e.spread)].account, "serviceId": e.service,
				"idempotencyKey": fmt.Sprintf("bench-%d", usageKey.Add(1)),
			}
		}
		token, query, vars = e.serviceToken, usageMutation, map[string]any{"ev": events}
	case "balance":
		token, query = e.spread[int(accountNext.Add(1))%len(e.spread)].token, balanceQuery
	case "history":
		token, query = e.hot.token, historyQuery
	}
	return token, query, vars, nil
}

// holdLifecycle runs one hold-hot unit as the service: createHold on the
// hot account, then holdCaptures captures, the last one final. It stops
// at the first error and returns its code; a hold left ACTIVE that way
// expires in an hour.
func (e *env) holdLifecycle(ctx context.Context, c *http.Client) (string, error) {
	var created struct {
		CreateHold struct {
			Hold struct{ ID string }
		}
	}
	vars := map[string]any{"a": e.hot.account, "x": holdAmount}
	if code, err := e.send(ctx, c, e.serviceToken, holdMutation, vars, &created); code != "" || err != nil {
		return code, err
	}
	for i := 1; i <= holdCaptures; i++ {
		vars := map[string]any{"h": created.CreateHold.Hold.ID, "x": captureAmount, "f": i == holdCaptures}
		if code, err := e.send(ctx, c, e.serviceToken, captureMutation, vars, nil); code != "" || err != nil {
			return code, err
		}
	}
	return "", nil
}

// apq is the automatic-persisted-query extension naming query by its hash.
func apq(query string) map[string]any {
	sum := sha256.Sum256([]byte(query))
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
}

// send posts the request the way a mobile client with automatic persisted
// queries does: the hash alone, and the full query only when the gateway
// does not know the hash yet. With -apq=false every request carries the
// query text. Without an error, the answer's data goes into data unless
// it is nil.
func (e *env) send(ctx context.Context, c *http.Client, token, query string, vars map[string]any, data any) (string, error) {
	if !e.apq {
		body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
		if err != nil {
			return "", err
		}
		return e.post(ctx, c, token, body, data)
	}
	ext := apq(query)
	body, err := json.Marshal(map[string]any{"variables": vars, "extensions": ext})
	if err != nil {
		return "", err
	}
	code, err := e.post(ctx, c, token, body, data)
	if err != nil || code != "PERSISTED_QUERY_NOT_FOUND" {
		return code, err
	}
	if body, err = json.Marshal(map[string]any{"query": query, "variables": vars, "extensions": ext}); err != nil {
		return "", err
	}
	return e.post(ctx, c, token, body, data)
}

// post sends one GraphQL request and returns the first error code, if any;
// without one, it decodes the answer's data into data unless it is nil.
func (e *env) post(ctx context.Context, c *http.Client, token string, body []byte, data any) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Extensions struct{ Code string } `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Sprintf("HTTP %d", resp.StatusCode), nil
	}
	if len(out.Errors) > 0 {
		if c := out.Errors[0].Extensions.Code; c != "" {
			return c, nil
		}
		return "unknown", nil
	}
	if data != nil {
		if err := json.Unmarshal(out.Data, data); err != nil {
			return "", fmt.Errorf("decoding the answer: %w", err)
		}
	}
	return "", nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}
