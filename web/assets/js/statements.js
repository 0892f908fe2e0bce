// The portal's "Statements" card: a month (last month by default) and a
// currency, that month's figures from the ledger (opening, in, out,
// closing, how many transactions), "Open printable statement" (a fresh
// signed link at each click, in a new tab) and "Download CSV" (the month's
// transactions from GET /exports/history.csv, fetched with the bearer
// token, which a plain link would not send, and saved as a file).

import { $, el, replace, money, showError, toast, busy } from './ui.js';
import { ApiError } from './api.js';
import { currentToken } from './session.js';

const Q = {
  statement: `query Statement($currency: String, $month: String!) {
    statement(currency: $currency, month: $month) {
      currency month from to openingBalance totalIn totalOut closingBalance transactionCount account { id }
    }
  }`,
  // The link expires: a fresh one is asked for at each opening.
  document: `query StatementDocument($currency: String, $month: String!) {
    statement(currency: $currency, month: $month) { documentUrl }
  }`,
};

let api = null;
let opts = { currency: 'USD', currencies: () => [] };
let shown = null; // the statement on screen
let seq = 0; // the latest load: an older answer arriving late is dropped

// monthOf is a Date's month, YYYY-MM, in UTC (statements' months are UTC).
function monthOf(d) {
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

// startStatements shows last month's statement. currencies() lists the
// account's currencies; currency is the agency's default.
export async function startStatements(a, o) {
  api = a;
  opts = o;
  shown = null;
  const now = new Date();
  const input = $('#statement-month');
  input.max = monthOf(now);
  input.value = monthOf(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)));
  renderCurrencies();
  await loadStatement();
}

// refreshStatement reads the shown month again (the current month's
// figures move with every transaction).
export async function refreshStatement() {
  if (api) await loadStatement();
}

function renderCurrencies() {
  const sel = $('#statement-currency');
  const list = opts.currencies();
  const cur = sel.value || opts.currency;
  $('#statement-currency-field').hidden = list.length < 2;
  if ([...sel.options].map((o) => o.value).join() !== list.join()) {
    replace(sel, list.map((c) => el('option', { value: c, selected: c === cur }, c)));
  }
}

function picked() {
  const month = $('#statement-month').value.trim();
  const currency = $('#statement-currency').value || opts.currency;
  return { month, currency };
}

async function loadStatement() {
  renderCurrencies();
  const errBox = $('#statement-error');
  showError(errBox, null);
  const { month, currency } = picked();
  const mine = ++seq;
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) {
    render(null);
    showError(errBox, { code: 'BAD_USER_INPUT', message: 'Pick a month, such as 2026-03' });
    return;
  }
  try {
    const d = await api.request(Q.statement, { currency, month });
    if (mine === seq) render(d.statement);
  } catch (err) {
    if (mine !== seq) return;
    render(null);
    showError(errBox, err);
  }
}

function figure(id, term, amount, currency) {
  return el('div', {}, el('dt', {}, term), el('dd', { id, class: 'num', dataset: { amount } }, money(amount, currency)));
}

function render(s) {
  shown = s;
  $('#statement-open').disabled = !s;
  $('#statement-csv').disabled = !s;
  if (!s) {
    replace($('#statement-figures'));
    return;
  }
  const c = s.currency;
  replace($('#statement-figures'),
    figure('statement-opening', 'Opening balance', s.openingBalance, c),
    figure('statement-in', 'In', s.totalIn, c),
    figure('statement-out', 'Out', s.totalOut, c),
    figure('statement-closing', 'Closing balance', s.closingBalance, c),
    el('div', {}, el('dt', {}, 'Transactions'), el('dd', { id: 'statement-count', class: 'num', dataset: { count: s.transactionCount } }, String(s.transactionCount))));
  $('#statement-figures').dataset.month = s.month;
  $('#statement-figures').dataset.currency = c;
}

async function openDocument(ev) {
  const s = shown;
  if (!s) return;
  const errBox = $('#statement-error');
  showError(errBox, null);
  // Opened now, while the click still counts (a window opened after an
  // await is a blocked pop-up), and pointed at the document once known.
  const win = window.open('', '_blank');
  try {
    const d = await busy(ev.currentTarget, api.request(Q.document, { currency: s.currency, month: s.month }));
    const url = d.statement.documentUrl;
    if (win) {
      win.opener = null;
      win.location.href = url;
    } else {
      location.assign(url);
    }
  } catch (err) {
    if (win) win.close();
    showError(errBox, err);
  }
}

// exportURL is the CSV export of statement s's period, on the gateway
// that serves GraphQL.
function exportURL(s) {
  const base = new URL(document.body.dataset.graphql || '/graphql', location.href);
  const u = new URL('/exports/history.csv', base);
  u.search = new URLSearchParams({ accountId: s.account.id, currency: s.currency, from: s.from, to: s.to }).toString();
  return u.href;
}

// fetchCSV downloads the export with the bearer token; a refusal (JSON in
// the GraphQL errors' shape) becomes an ApiError.
async function fetchCSV(s) {
  let res;
  try {
    res = await fetch(exportURL(s), { headers: { Authorization: `Bearer ${currentToken()}`, Accept: 'text/csv' } });
  } catch (e) {
    throw new ApiError('NETWORK', `The request did not reach the server (${e.message})`);
  }
  if (!res.ok) {
    let first = null;
    try {
      const body = await res.json();
      first = body && Array.isArray(body.errors) ? body.errors[0] : null;
    } catch {
      // not JSON: handled below
    }
    if (first) throw new ApiError((first.extensions && first.extensions.code) || 'HTTP', first.message, { status: res.status });
    throw new ApiError('HTTP', `The server answered ${res.status} ${res.statusText}`.trim(), { status: res.status });
  }
  return res.blob();
}

async function downloadCSV(ev) {
  const s = shown;
  if (!s) return;
  const errBox = $('#statement-error');
  showError(errBox, null);
  try {
    const blob = await busy(ev.currentTarget, fetchCSV(s));
    const href = URL.createObjectURL(blob);
    const a = el('a', { href, download: `statement-${s.month}-${s.currency}.csv`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    // The download has its own copy once started.
    setTimeout(() => URL.revokeObjectURL(href), 60000);
    toast(`Downloaded the ${s.transactionCount} transactions of ${s.month} (${s.currency}) as CSV.`);
  } catch (err) {
    showError(errBox, err);
  }
}

// ------------------------------------------------------------ wiring

$('#statement-month').addEventListener('change', () => loadStatement());
$('#statement-currency').addEventListener('change', () => loadStatement());
$('#statement-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadStatement(); });
$('#statement-open').addEventListener('click', openDocument);
$('#statement-csv').addEventListener('click', downloadCSV);
