// The client portal: balance per currency (live) and what is owed,
// transaction history (with the reasons of corrections), Buy Credits, credit
// requests (live) with their invoices (open, pay online), invoices with Pay
// with Credit, services with Buy with Credit and their rate cards (units
// left per rate); monthly statements (statements.js).

import { boot, showWho, debounce, guard } from './common.js';
import {
  $, el, replace, rerender, money, timeEl, kindLabels, methodLabels, statusLabels, label, badge,
  showError, alertError, toast, busy, confirmDialog, KeyRing, newKey,
} from './ui.js';
import { startSettings, refreshSettings } from './settings.js';
import { plainReference } from './references.js';
import { startTopupInvoices, invoiceRow } from './invoices.js';
import { startStatements, refreshStatement } from './statements.js';

const PAGE_SIZE = 10;

// A credit request as the portal shows it, with its top-up invoice.
const REQ = 'id amount currency method reference status paid createdAt rejectionReason invoice { id number amount currency status dueAt }';

const Q = {
  viewer: `query Viewer {
    viewer { userId role agency { id name defaultCurrency creditPaymentsEnabled } account { id name canBuyCredits { available reason } } }
  }`,
  balances: `query Balances {
    balances { currency available held owed updatedAt runway { daysLeft } }
    balance { currency available held owed updatedAt runway { daysLeft } }
  }`,
  // How long the credits last at the recent spending, after each change.
  runway: `query Runway { balances { currency runway { daysLeft } } }`,
  history: `query History($currency: String, $first: Int, $after: String) {
    history(currency: $currency, first: $first, after: $after) {
      totalCount
      edges { node { id createdAt type kind reference amount currency runningBalance reason reversedBy { id } } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  requests: `query Requests($first: Int, $after: String) {
    requests(first: $first, after: $after) {
      edges { node { ...Req } }
      pageInfo { hasNextPage endCursor }
    }
  }
  fragment Req on CreditRequest { ${REQ} }`,
  invoices: `query Invoices($first: Int, $after: String) {
    invoices(first: $first, after: $after) {
      edges { node { id number kind amount currency status paidAt payWithCredit { available reason } } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  services: `query Services {
    services {
      id name price currency unit buyWithCredit { available reason } estimatedUnitsLeft
      rates { variant price estimatedUnitsLeft }
    }
  }`,
  packages: `query Packages { creditPackages { id name credits price currency } }`,
  settings: `query Settings { viewer { agency { id creditPaymentsEnabled } account { id canBuyCredits { available reason } } } }`,
  buy: `mutation Buy($input: BuyCreditsInput!) {
    buyCredits(input: $input) {
      status
      transaction { id amount currency runningBalance }
      request { ${REQ} }
      payment { provider providerRef status clientSecret approvalUrl }
      balance { currency available held updatedAt }
    }
  }`,
  payInvoice: `mutation PayInvoice($input: PayInvoiceWithCreditInput!) {
    payInvoiceWithCredit(input: $input) {
      invoice { id number status }
      transaction { amount currency runningBalance }
      balance { currency available held updatedAt }
    }
  }`,
  buyService: `mutation BuyService($input: BuyServiceWithCreditInput!) {
    buyServiceWithCredit(input: $input) {
      transaction { amount currency }
      balance { currency available held updatedAt }
    }
  }`,
  onBalance: `subscription OnBalance($currency: String) {
    balanceUpdated(currency: $currency) { currency available held owed updatedAt }
  }`,
  onRequest: `subscription OnRequest {
    creditRequestUpdated { ${REQ} }
  }`,
  onAgency: `subscription OnAgency {
    agencyUpdated { id creditPaymentsEnabled defaultCurrency }
  }`,
};

// Everything on screen comes from here; render* functions draw it.
let api = null;
let state = null;

function freshState() {
  return {
    viewer: null,
    paymentsOn: true,
    currency: 'USD', // the agency's default
    balances: new Map(), // currency -> {available, updatedAt}
    runways: new Map(), // currency -> {daysLeft} or null (nothing spent lately)
    watched: new Map(), // currency -> unsubscribe
    packages: [],
    history: { currency: null, cursors: [null], page: 0, total: 0, hasNext: false },
    requests: new Map(),
    requestsAfter: null,
    invoices: [],
    invoicesAfter: null,
    services: [],
  };
}

// ------------------------------------------------------------ start and refresh

async function start(a) {
  api = a;
  state = freshState();
  const { viewer } = await api.request(Q.viewer);
  state.viewer = viewer;
  showWho(viewer, viewer.account ? viewer.account.name : 'Client portal');
  if (!viewer.account) {
    // An agency or system admin: this page shows one client account.
    replace($('#role-notice'), el('p', { class: 'notice' },
      `You are signed in as ${viewer.role === 'AGENCY_ADMIN' ? 'an agency admin' : 'a system admin'}; the portal shows a client account. `,
      el('a', { href: '/dashboard/' }, 'Open the agency dashboard'), ' or sign out and pick a client user.'));
    for (const s of document.querySelectorAll('#app .grid')) s.hidden = true;
    return () => {};
  }
  replace($('#role-notice'));
  for (const s of document.querySelectorAll('#app .grid')) s.hidden = false;
  state.paymentsOn = viewer.agency.creditPaymentsEnabled;
  state.currency = viewer.agency.defaultCurrency;

  setCanBuy(viewer.account.canBuyCredits);

  await loadBalances();
  const stopSettings = (await guard(startSettings(api, viewer, {
    onBalance: (b) => { if (setBalance(b)) afterBalanceChange(); },
  }))) || (() => {});
  await Promise.all([
    guard(loadPackages()),
    guard(loadHistory()),
    guard(loadRequests(true)),
    guard(loadInvoices(true)),
    guard(loadServices()),
    guard(startStatements(api, { currency: state.currency, currencies })),
  ]);
  startTopupInvoices(api, {
    onRequest: (r) => upsertRequest(r, false),
    afterPayment: () => afterBalanceChange(),
  });
  const stopRequests = api.subscribe(Q.onRequest, {}, { next: (d) => onRequestEvent(d.creditRequestUpdated), error: alertError });
  // The agency's switch reaches an open portal at once.
  const stopAgency = api.subscribe(Q.onAgency, {}, { next: () => guard(onAgencyChange()), error: alertError });
  return () => {
    stopSettings();
    stopRequests();
    stopAgency();
    for (const unsub of state.watched.values()) unsub();
    state.watched.clear();
  };
}

async function refresh() {
  if (!state || !state.viewer || !state.viewer.account) return;
  const s = await guard(api.request(Q.settings));
  if (s) {
    state.paymentsOn = s.viewer.agency.creditPaymentsEnabled;
    setCanBuy(s.viewer.account.canBuyCredits);
  }
  await Promise.all([
    guard(loadBalances()),
    guard(loadHistory()),
    guard(loadRequests(true)),
    guard(loadInvoices(true)),
    guard(loadServices()),
    guard(refreshSettings()),
    guard(refreshStatement()),
  ]);
}

// onAgencyChange follows a change of the agency's settings: whether
// credits may be bought (the account's canBuyCredits says why not) and spent.
async function onAgencyChange() {
  const s = await api.request(Q.settings);
  state.paymentsOn = s.viewer.agency.creditPaymentsEnabled;
  setCanBuy(s.viewer.account.canBuyCredits);
  renderBalances();
  await Promise.all([guard(loadServices()), guard(loadInvoices(true)), guard(refreshSettings())]);
}

// After the balance moved: what depends on it (history, what credits can
// still pay for) is re-read, once for a burst of changes.
const afterBalanceChange = debounce(() => {
  guard(loadRunway());
  guard(loadHistory());
  guard(loadInvoices(true));
  guard(loadServices());
  guard(refreshSettings());
  guard(refreshStatement());
}, 150);

// ------------------------------------------------------------ balances

async function loadBalances() {
  const d = await api.request(Q.balances);
  for (const b of [d.balance, ...d.balances]) {
    setBalance(b, false);
    state.runways.set(b.currency, b.runway);
  }
  renderBalances();
}

async function loadRunway() {
  const d = await api.request(Q.runway);
  for (const b of d.balances) state.runways.set(b.currency, b.runway);
  renderBalances();
}

// setBalance applies a balance unless a newer one is already shown (a
// mutation's answer can arrive after the live event of a later change).
function setBalance(b, flash = true) {
  const cur = state.balances.get(b.currency);
  if (cur && Date.parse(cur.updatedAt) > Date.parse(b.updatedAt)) return false;
  // Not every answer carries owed (settings' balances do not): keep the last.
  const owed = b.owed !== undefined ? b.owed : (cur ? cur.owed : '0');
  const changed = !cur || cur.available !== b.available || cur.held !== b.held || cur.owed !== owed;
  state.balances.set(b.currency, { available: b.available, held: b.held, owed, updatedAt: b.updatedAt });
  watch(b.currency);
  if (flash && changed) renderBalances(b.currency);
  return changed;
}

// watch subscribes to balanceUpdated for a currency, once.
function watch(currency) {
  if (state.watched.has(currency)) return;
  const unsub = api.subscribe(Q.onBalance, { currency }, {
    next: (d) => {
      if (setBalance(d.balanceUpdated)) afterBalanceChange();
    },
    error: alertError,
  });
  state.watched.set(currency, unsub);
}

function currencies() {
  // The default currency first, then the others alphabetically.
  return [...state.balances.keys()].sort((a, b) => (a === state.currency ? -1 : b === state.currency ? 1 : a.localeCompare(b)));
}

function renderBalances(flashCurrency) {
  const widgets = $('#balance-widgets');
  const big = $('#big-balances');
  replace(widgets);
  replace(big);
  for (const c of currencies()) {
    const b = state.balances.get(c);
    if (state.paymentsOn) {
      // In the top bar only while the agency accepts credit payments.
      const w = el('a', { class: 'balance-widget', href: '#credits', id: `balance-${c}`, dataset: { currency: c, available: b.available } },
        el('span', { class: 'label' }, 'Credits'), el('span', { class: 'amount' }, money(b.available, c)));
      widgets.append(w);
      if (c === flashCurrency) {
        w.classList.add('flash');
        setTimeout(() => w.classList.remove('flash'), 1200);
      }
    }
    big.append(el('div', { class: 'big-balance', id: `big-balance-${c}` },
      el('span', { class: 'amount' }, money(b.available, c).replace(` ${c}`, '')),
      el('span', { class: 'currency' }, c),
      // Credits set aside by active holds (a campaign in flight), when any.
      Number(b.held) > 0 ? el('div', { class: 'hint held', id: `held-${c}` }, `${money(b.held, c)} held`) : null,
      // Refunds and disputes the balance could not cover: the next credits
      // in pay this first.
      Number(b.owed) > 0 ? el('div', { class: 'owed', id: `owed-${c}`, dataset: { owed: b.owed } },
        `${money(b.owed, c)} owed`, el('span', { class: 'hint' }, ' (paid first from the next credits)')) : null,
      runwayHint(c),
      el('div', { class: 'hint' }, 'updated ', timeEl(b.updatedAt))));
  }
  replace($('#credit-payments-note'), state.paymentsOn
    ? 'Credits pay for invoices and services below.'
    : 'Your agency has turned credit payments off: credits can be neither bought nor spent for now.');
  renderHistoryCurrencies();
}

// runwayHint: "about N days left at your current usage", when the account
// spent anything in the last 30 days.
function runwayHint(c) {
  const r = state.runways.get(c);
  if (!r) return null;
  const days = r.daysLeft === 1 ? '1 day' : `${r.daysLeft} days`;
  return el('div', { class: 'hint runway', id: `runway-${c}` }, `about ${days} left at your current usage`);
}

// ------------------------------------------------------------ history

function renderHistoryCurrencies() {
  const list = currencies();
  const h = state.history;
  if (!h.currency) h.currency = state.currency;
  $('#history-currency-field').hidden = list.length < 2;
  const sel = $('#history-currency');
  if (sel.options.length !== list.length) {
    replace(sel, list.map((c) => el('option', { value: c, selected: c === h.currency }, c)));
  }
}

async function loadHistory() {
  const h = state.history;
  const cur = h.currency || state.currency;
  const d = await api.request(Q.history, { currency: cur, first: PAGE_SIZE, after: h.cursors[h.page] });
  const conn = d.history;
  h.total = conn.totalCount;
  h.hasNext = conn.pageInfo.hasNextPage;
  h.cursors[h.page + 1] = conn.pageInfo.endCursor;
  const rows = conn.edges.map(({ node: t }) => el('tr', { dataset: { id: t.id, type: t.type, kind: t.kind }, class: t.reversedBy ? 'reversed' : null },
    el('td', { 'data-label': 'Date', class: 'nowrap' }, timeEl(t.createdAt)),
    el('td', { 'data-label': 'In/Out' }, badge(t.type === 'IN' ? 'In' : 'Out', t.type === 'IN' ? 'in' : 'out')),
    el('td', { 'data-label': 'Kind' }, label(kindLabels, t.kind),
      t.reversedBy ? [' ', badge('Reversed', 'reversed')] : null),
    el('td', { 'data-label': 'Reference' }, plainReference(t.kind, t.reference) || '—',
      t.reason ? el('div', { class: 'reason', dataset: { reason: '' } }, t.reason) : null),
    el('td', { 'data-label': 'Amount', class: `num ${t.type === 'IN' ? 'amount-in' : 'amount-out'}` },
      `${t.type === 'IN' ? '+' : '−'}${money(t.amount, t.currency)}`),
    el('td', { 'data-label': 'Running balance', class: 'num' }, money(t.runningBalance, t.currency)),
  ));
  replace($('#history-table tbody'), rows.length ? rows
    : el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No transactions yet.')));
  const first = h.page * PAGE_SIZE + 1;
  replace($('#history-range'), rows.length
    ? `${first}–${first + rows.length - 1} of ${h.total}`
    : '');
  $('#history-newer').disabled = h.page === 0;
  $('#history-older').disabled = !h.hasNext;
}

function historyPager() {
  const h = () => state.history;
  $('#history-newer').addEventListener('click', () => {
    if (h().page > 0) { h().page--; guard(loadHistory()); }
  });
  $('#history-older').addEventListener('click', () => {
    if (h().hasNext) { h().page++; guard(loadHistory()); }
  });
  $('#history-currency').addEventListener('change', (ev) => {
    Object.assign(state.history, { currency: ev.target.value, cursors: [null], page: 0 });
    guard(loadHistory());
  });
}

// ------------------------------------------------------------ buying credits

async function loadPackages() {
  const d = await api.request(Q.packages);
  state.packages = d.creditPackages;
  const box = $('#packages');
  replace(box, state.packages.map((p, i) => el('label', { class: 'choice' },
    el('input', { type: 'radio', name: 'package', value: p.id, checked: i === 0, dataset: { name: p.name } }),
    el('span', {}, p.name, el('span', { class: 'sub' }, `${money(p.credits, p.currency)} credits for ${money(p.price, p.currency)}`)))));
  if (!state.packages.length) $('#pkg-custom').checked = true;
  replace($('#custom-currency'), state.currency);
  syncCustomAmount();
}

// setCanBuy shows or withholds the purchase form as the gateway says
// (Account.canBuyCredits): the rules live there, not here.
const cannotBuy = {
  ROLE_NOT_ALLOWED: 'Only the account owner can buy credits.',
  CREDIT_PAYMENTS_DISABLED: 'Your agency has turned credit payments off: buying credits is unavailable for now.',
};

function setCanBuy(can) {
  state.canBuy = can.available;
  const notice = $('#buy-forbidden');
  notice.hidden = can.available;
  replace(notice, can.available ? '' : (cannotBuy[can.reason] || 'Buying credits is unavailable for now.'));
  for (const f of $('#buy-form').querySelectorAll('fieldset, input, button')) f.disabled = !can.available;
  if (can.available) syncCustomAmount();
}

function syncCustomAmount() {
  const custom = $('#pkg-custom').checked;
  $('#custom-amount').disabled = !custom || !state.canBuy;
}

const buyKeys = new KeyRing('buy');

function buyForm() {
  const form = $('#buy-form');
  form.addEventListener('change', (ev) => {
    if (ev.target.name === 'package') {
      syncCustomAmount();
      if (ev.target.value === 'custom') $('#custom-amount').focus();
    }
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const errBox = $('#buy-error');
    showError(errBox, null);
    const data = new FormData(form);
    const input = { method: data.get('method') };
    if (data.get('package') === 'custom' || !data.get('package')) {
      const amount = String(data.get('amount') || '').trim();
      if (!/^\d+(\.\d+)?$/.test(amount) || /^0*(\.0*)?$/.test(amount)) {
        showError(errBox, { code: 'BAD_USER_INPUT', message: 'Enter an amount greater than zero, such as 250 or 250.00' });
        $('#custom-amount').focus();
        return;
      }
      input.amount = amount;
      input.currency = state.currency;
    } else {
      input.packageId = data.get('package');
    }
    const ref = String(data.get('reference') || '').trim();
    if (ref) input.reference = ref;
    input.idempotencyKey = buyKeys.for(input);
    let res;
    try {
      res = (await busy($('#buy-submit'), api.request(Q.buy, { input }))).buyCredits;
    } catch (err) {
      if (err.code !== 'NETWORK') buyKeys.done();
      showError(errBox, err);
      return;
    }
    buyKeys.done();
    switch (res.status) {
      case 'COMPLETED':
        setBalance(res.balance);
        toast(`Added ${money(res.transaction.amount, res.transaction.currency)} to your credits. Balance: ${money(res.balance.available, res.balance.currency)}.`);
        afterBalanceChange();
        form.reset();
        syncCustomAmount();
        break;
      case 'PENDING_APPROVAL':
        upsertRequest(res.request, true);
        if (res.request.method === 'ONLINE' && res.request.invoice) {
          toast(`Invoice ${res.request.invoice.number} for ${money(res.request.invoice.amount, res.request.invoice.currency)} issued: pay it online under Credit requests.`);
        } else {
          toast(`Request for ${money(res.request.amount, res.request.currency)} sent to the agency. The credits arrive when it is approved; see Credit requests.`);
        }
        form.reset();
        syncCustomAmount();
        break;
      case 'REQUIRES_ACTION': {
        const p = res.payment || {};
        replace(errBox, el('div', { class: 'notice' },
          `The payment (${p.provider} ${p.providerRef}) needs your confirmation. `,
          p.approvalUrl ? el('a', { href: p.approvalUrl, target: '_blank', rel: 'noopener' }, 'Continue to PayPal') : 'Confirm it with your card provider.',
          ' The credits appear here as soon as the provider confirms.'));
        break;
      }
      case 'FAILED':
        showError(errBox, { code: 'PAYMENT_FAILED', message: 'The payment was declined: nothing was charged or credited. Try another card or method.' });
        break;
      default:
        showError(errBox, { code: 'HTTP', message: `Unexpected purchase status ${res.status}` });
    }
  });
}

// ------------------------------------------------------------ credit requests

async function loadRequests(reset) {
  if (reset) { state.requests.clear(); state.requestsAfter = null; }
  const d = await api.request(Q.requests, { first: PAGE_SIZE, after: reset ? null : state.requestsAfter });
  for (const { node } of d.requests.edges) state.requests.set(node.id, node);
  state.requestsAfter = d.requests.pageInfo.hasNextPage ? d.requests.pageInfo.endCursor : null;
  $('#requests-more').hidden = !state.requestsAfter;
  renderRequests();
}

function upsertRequest(r, isNew) {
  const old = state.requests.get(r.id);
  state.requests.set(r.id, r);
  renderRequests(isNew && !old ? r.id : null);
  return old;
}

function onRequestEvent(r) {
  const old = upsertRequest(r, true);
  if (old && old.status === 'PENDING' && r.status === 'ACCEPTED') {
    toast(`Your request for ${money(r.amount, r.currency)} was accepted: the credits are on your balance.`);
  } else if (old && old.status === 'PENDING' && r.status === 'REJECTED') {
    toast(`Your request for ${money(r.amount, r.currency)} was rejected${r.rejectionReason ? ': ' + r.rejectionReason : ''}. Nothing was credited.`);
  }
}

function renderRequests(newId) {
  const list = [...state.requests.values()].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const rows = list.map((r) => [el('tr', { dataset: { id: r.id, status: r.status, method: r.method }, class: r.id === newId ? 'new' : null },
    el('td', { 'data-label': 'Date' }, timeEl(r.createdAt, true)),
    el('td', { 'data-label': 'Amount', class: 'num' }, money(r.amount, r.currency)),
    el('td', { 'data-label': 'Method' }, label(methodLabels, r.method), r.reference ? el('div', { class: 'reason' }, r.reference) : null),
    el('td', { 'data-label': 'Status' }, badge(label(statusLabels, r.status), r.status.toLowerCase()),
      r.status === 'ACCEPTED' && !r.paid ? [' ', badge('Unpaid', 'unpaid')] : null,
      r.rejectionReason ? el('div', { class: 'reason' }, r.rejectionReason) : null),
  ), r.invoice ? invoiceRow(r) : null]);
  rerender($('#requests-table tbody'), rows.length ? rows
    : el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'No credit requests.')));
}

// ------------------------------------------------------------ invoices

function reasonText(reason, what) {
  switch (reason) {
    case 'CREDIT_PAYMENTS_DISABLED': return 'Credit payments are turned off by your agency.';
    case 'INSUFFICIENT_CREDITS': return 'Not enough credits: your balance does not cover this amount.';
    case 'NOT_ELIGIBLE': return what === 'invoice' ? 'This invoice cannot be paid with credits.' : 'This service cannot be bought with credits.';
    case 'ALREADY_PAID': return 'Already paid.';
    default: return 'Not available with credits.';
  }
}

async function loadInvoices(reset) {
  const d = await api.request(Q.invoices, { first: 20, after: reset ? null : state.invoicesAfter });
  const items = d.invoices.edges.map((e) => e.node);
  state.invoices = reset ? items : [...state.invoices, ...items];
  state.invoicesAfter = d.invoices.pageInfo.hasNextPage ? d.invoices.pageInfo.endCursor : null;
  $('#invoices-more').hidden = !state.invoicesAfter;
  renderInvoices();
}

function renderInvoices() {
  const rows = state.invoices.map((inv) => {
    let action;
    if (inv.status === 'PAID') action = el('span', { class: 'reason' }, 'Paid ', timeEl(inv.paidAt));
    else if (inv.status === 'VOID') action = el('span', { class: 'reason' }, 'Void');
    else if (inv.kind === 'CREDIT_TOPUP') action = el('span', { class: 'reason' }, 'Bills a credit request: see Credit requests.');
    else if (inv.payWithCredit.available) {
      action = el('button', { type: 'button', id: `pay-${inv.id}`, class: 'primary small pay-credit', 'aria-label': `Pay invoice ${inv.number} with credit`, onclick: (ev) => payInvoice(inv, ev.currentTarget) }, 'Pay with Credit');
    } else action = el('span', { class: 'reason', dataset: { reason: inv.payWithCredit.reason } }, reasonText(inv.payWithCredit.reason, 'invoice'));
    return el('tr', { dataset: { id: inv.id, number: inv.number, status: inv.status } },
      el('td', { 'data-label': 'Invoice', class: 'nowrap' }, inv.number),
      el('td', { 'data-label': 'Amount', class: 'num' }, money(inv.amount, inv.currency)),
      el('td', { 'data-label': 'Status' }, badge(label(statusLabels, inv.status), inv.status.toLowerCase())),
      el('td', { 'data-label': 'Pay' }, action));
  });
  rerender($('#invoices-table tbody'), rows.length ? rows
    : el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'No invoices.')));
}

const payKeys = new Map(); // invoice id -> idempotency key, kept until it succeeds

async function payInvoice(inv, button) {
  const b = state.balances.get(inv.currency);
  const ok = await confirmDialog({
    title: `Pay invoice ${inv.number} with credit?`,
    text: `${money(inv.amount, inv.currency)} will be deducted from your credits${b ? ` (available: ${money(b.available, inv.currency)})` : ''}.`,
    confirm: 'Pay with Credit',
  });
  if (!ok) return;
  const errBox = $('#invoices-error');
  showError(errBox, null);
  if (!payKeys.has(inv.id)) payKeys.set(inv.id, newKey('pay'));
  try {
    const res = (await busy(button, api.request(Q.payInvoice, { input: { invoiceId: inv.id, idempotencyKey: payKeys.get(inv.id) } }))).payInvoiceWithCredit;
    payKeys.delete(inv.id);
    setBalance(res.balance);
    toast(`Invoice ${res.invoice.number} is paid: ${money(res.transaction.amount, res.transaction.currency)} deducted. Balance: ${money(res.balance.available, res.balance.currency)}.`);
  } catch (err) {
    if (err.code !== 'NETWORK') payKeys.delete(inv.id);
    showError(errBox, err);
  }
  afterBalanceChange();
}

// ------------------------------------------------------------ services

async function loadServices() {
  const d = await api.request(Q.services);
  state.services = d.services;
  renderServices();
}

function renderServices() {
  const rows = state.services.map((s) => {
    let action;
    if (s.buyWithCredit.available) {
      const qtyId = `qty-${s.id}`;
      action = el('form', { class: 'actions buy-service', onsubmit: (ev) => { ev.preventDefault(); buyService(s, ev.currentTarget); } },
        el('label', { for: qtyId, class: 'visually-hidden' }, `Quantity of ${s.name}`),
        el('input', { type: 'number', id: qtyId, name: 'quantity', class: 'qty', min: 1, step: 1, value: 1, required: true, inputmode: 'numeric' }),
        el('button', { type: 'submit', id: `buy-${s.id}`, class: 'primary small' }, 'Buy with Credit'));
    } else {
      action = el('span', { class: 'reason', dataset: { reason: s.buyWithCredit.reason } }, reasonText(s.buyWithCredit.reason, 'service'));
    }
    const row = el('tr', { dataset: { id: s.id, name: s.name } },
      el('td', { 'data-label': 'Service' }, s.name),
      el('td', { 'data-label': 'Price per unit', class: 'num' }, money(s.price, s.currency)),
      el('td', { 'data-label': 'Estimated units left', class: 'num' }, s.estimatedUnitsLeft.toLocaleString()),
      el('td', { 'data-label': 'Buy' }, action));
    return s.rates.length > 1 ? [row, rateCardRow(s)] : [row];
  }).flat();
  rerender($('#services-table tbody'), rows.length ? rows
    : el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'No services.')));
}

// rateCardRow shows a service's rate card under it ("SMS pricing"): each
// variant (an SMS destination) with its price per unit and the units the
// balance pays for at that rate; the default rate applies to the rest.
function rateCardRow(s) {
  const unit = s.unit || 'unit';
  const title = `${s.name} pricing`;
  const titleId = `rates-title-${s.id}`;
  const variants = [...s.rates.slice(1), s.rates[0]];
  return el('tr', { class: 'rate-card-row', dataset: { rateCard: s.name } },
    el('td', { colspan: 4, 'data-label': '' },
      el('div', { class: 'rate-card' },
        el('h3', { id: titleId }, title),
        el('table', { class: 'stack rates', 'aria-labelledby': titleId },
          el('thead', {}, el('tr', {},
            el('th', { scope: 'col' }, 'Destination'),
            el('th', { scope: 'col', class: 'num' }, `Price per ${unit}`),
            el('th', { scope: 'col', class: 'num' }, el('abbr', { title: `Estimated ${unit} your balance still pays for at this rate` }, `${unit} left`)))),
          el('tbody', {}, ...variants.map((r) => el('tr', { dataset: { variant: r.variant } },
            el('td', { 'data-label': 'Destination' }, r.variant === '' ? 'Other destinations' : r.variant),
            el('td', { 'data-label': `Price per ${unit}`, class: 'num' }, money(r.price, s.currency)),
            el('td', { 'data-label': `${unit} left`, class: 'num' }, r.estimatedUnitsLeft.toLocaleString()))))))));
}

const serviceKeys = new KeyRing('svc');

async function buyService(s, form) {
  const errBox = $('#services-error');
  showError(errBox, null);
  const quantity = Number(form.quantity.value);
  if (!Number.isInteger(quantity) || quantity < 1) {
    showError(errBox, { code: 'BAD_USER_INPUT', message: 'Enter a whole number of units, 1 or more' });
    form.quantity.focus();
    return;
  }
  const input = { serviceId: s.id, quantity };
  input.idempotencyKey = serviceKeys.for(input);
  try {
    const res = (await busy(form.querySelector('button'), api.request(Q.buyService, { input }))).buyServiceWithCredit;
    serviceKeys.done();
    setBalance(res.balance);
    toast(`Bought ${quantity} × ${s.name} for ${money(res.transaction.amount, res.transaction.currency)}. Balance: ${money(res.balance.available, res.balance.currency)}.`);
  } catch (err) {
    if (err.code !== 'NETWORK') serviceKeys.done();
    showError(errBox, err);
  }
  afterBalanceChange();
}

// ------------------------------------------------------------ wiring

historyPager();
buyForm();
$('#requests-more').addEventListener('click', (ev) => guard(busy(ev.currentTarget, loadRequests(false))));
$('#invoices-more').addEventListener('click', (ev) => guard(busy(ev.currentTarget, loadInvoices(false))));
boot({ preferRole: 'client_owner', start, onRefresh: refresh });
