// GraphQL-over-HTTP conformance audit of a running gateway, with the audits
// of the graphql-http reference implementation (serverAudits / auditServer).
//
//   node scripts/audit/audit.mjs http://127.0.0.1:8080/graphql
//
// Prints every result (ok, warn for a failed SHOULD, notice for a failed
// MAY, error for a failed MUST) and a summary line; exits 1 if any MUST
// fails (or the audit cannot run), 0 otherwise. `make audit` builds and
// starts a throwaway gateway and runs this against it.
//
// The audit's requests are unauthenticated and ask only for introspection
// fields (`{ __typename }`, `__type(name:)`), which the gateway answers
// without a token outside production.
import { auditServer } from 'graphql-http';

const url = process.argv[2] || process.env.AUDIT_URL;
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint URL>');
  process.exit(2);
}

let results;
try {
  results = await auditServer({ url });
} catch (err) {
  console.error(`graphql-http audit: could not run against ${url}: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
}

const level = (r) => r.name.split(' ', 1)[0]; // MUST, SHOULD or MAY
const order = { error: 0, warn: 1, notice: 2, ok: 3 };
results.sort((a, b) => order[a.status] - order[b.status] || a.id.localeCompare(b.id));

for (const r of results) {
  let line = `${r.status.padEnd(6)} ${r.id}  ${r.name}`;
  if (r.status !== 'ok') {
    let detail = r.reason;
    if (r.response) {
      try {
        const body = (await r.response.text()).replace(/\s+/g, ' ').slice(0, 200);
        detail += ` [${r.response.status} ${r.response.headers.get('content-type') || '-'}] ${body}`;
      } catch {
        // The body was already read by the assertion.
      }
    }
    line += `\n         ${detail}`;
  }
  console.log(line);
}

const count = (lvl, status) => results.filter((r) => level(r) === lvl && r.status === status).length;
const mustOk = count('MUST', 'ok');
const mustFailed = count('MUST', 'error');
const shouldOk = count('SHOULD', 'ok');
const shouldWarn = count('SHOULD', 'warn');
const mayOk = count('MAY', 'ok');
const mayNotice = count('MAY', 'notice');
console.log(
  `graphql-http audit: ${mustOk} MUST ok, ${mustFailed} MUST failed, ` +
    `${shouldOk} SHOULD ok, ${shouldWarn} SHOULD warn, ${mayOk} MAY ok, ${mayNotice} MAY notice`,
);
process.exit(mustFailed > 0 ? 1 : 0);
