// The agency dashboard: pending credit requests arriving live, approve and
// reject, allocations from the pool, the credit-payments switch and the
// unpaid post-paid total, client accounts with their balances (live) and
// their back office (backoffice.js), recent requests (mark post-paid ones
// paid), billing terms; the Activity page (activity.js) and the Webhooks
// page (webhooks.js).

import { boot, showWho, guard } from './common.js';
import {
  $, el, replace, rerender, money, timeEl, methodLabels, statusLabels, label, badge,
  showError, alertError, toast, busy, confirmDialog, KeyRing,
} from './ui.js';
import { startApiKeys, refreshApiKeys } from './apikeys.js';
import { startBackoffice, refreshBackoffice, openClient } from './backoffice.js';
import { startActivity, loadActivity } from './activity.js';
import { startWebhooks, loadWebhooks } from './webhooks.js';

const REQ = 'id amount currency method reference status paid createdAt submittedBy reviewedAt reviewedBy rejectionReason account { id name kind }';

// notReviewable says why this viewer may not review r, or '' when it may
// (the gateway refuses the same: nobody reviews their own request, and the
// agency's own requests for its pool are the platform's to review).
function notReviewable(r) {
  if (r.account.kind === 'AGENCY' && state.role !== 'SYSTEM_ADMIN') return 'Awaiting the platform';
  if (r.submittedBy === state.userId) return 'Submitted by you: another admin reviews it';
  return '';
}

const Q = {
  viewer: `query Viewer {
    viewer { userId role agency { id name defaultCurrency creditPaymentsEnabled
      invoiceDueDays bankDetails unpaidPostpaid { currency amount }
      poolAccount { id name balance { currency available updatedAt } } } }
  }`,
  accounts: `query Accounts($after: String) {
    agency { accounts(first: 50, after: $after) {
      totalCount
      edges { node { id name kind balances { currency available held owed updatedAt } } }
      pageInfo { hasNextPage endCursor }
    } }
  }`,
  pending: `query Pending { requests(status: PENDING, first: 100) { totalCount edges { node { ${REQ} } } } }`,
  recent: `query Recent { requests(first: 10) { edges { node { ${REQ} } } } }`,
  approve: `mutation Approve($input: ReviewRequestInput!) {
    approveRequest(input: $input) { request { ${REQ} } balance { currency available held updatedAt } }
  }`,
  reject: `mutation Reject($input: ReviewRequestInput!) {
    rejectRequest(input: $input) { request { ${REQ} } }
  }`,
  markPaid: `mutation MarkPaid($input: MarkRequestPaidInput!) {
    markRequestPaid(input: $input) { request { ${REQ} } }
  }`,
  allocate: `mutation Allocate($input: AllocateCreditsInput!) {
    allocateCredits(input: $input) {
      transaction { amount currency }
      balance { currency available held updatedAt account { id name } }
      poolBalance { currency available updatedAt }
    }
  }`,
  settings: `mutation Settings($input: UpdateAgencySettingsInput!) {
    updateAgencySettings(input: $input) { id creditPaymentsEnabled }
  }`,
  onRequest: `subscription OnRequest { creditRequestUpdated { ${REQ} } }`,
  // Every balance of the agency, the pool's and every client's, on one subscription.
  onBalances: `subscription OnBalances { agencyBalanceUpdated { currency available held owed updatedAt account { id } } }`,
};

let api = null;
let state = null;

function freshState() {
  return {
    agency: null,
    pool: null, // {currency, available, updatedAt}
    accounts: new Map(), // id -> {id, name, balances: Map(currency -> {available, updatedAt})}
    accountsAfter: null,
    accountsTotal: 0,
    pending: new Map(),
    recent: new Map(),
  };
}

// ------------------------------------------------------------ start and refresh

async function start(a) {
  api = a;
  state = freshState();
  const { viewer } = await api.request(Q.viewer);
  showWho(viewer, viewer.agency ? viewer.agency.name : 'Agency dashboard');
  const grid = $('#dash-grid');
  if (!viewer.agency || viewer.role === 'CLIENT' || viewer.role === 'CLIENT_OWNER') {
    grid.hidden = true;
    $('#dash-tabs').hidden = true;
    $('#activity-page').hidden = true;
    $('#webhooks-page').hidden = true;
    replace($('#role-notice'), el('p', { class: 'notice' },
      viewer.agency
        ? ['The dashboard is for agency staff. ', el('a', { href: '/portal/' }, 'Open the client portal'), ' or sign out and pick the agency admin.']
        : 'The dashboard shows one agency; this token names none (a system admin). Sign out and pick the agency admin.'));
    return () => {};
  }
  $('#dash-tabs').hidden = false;
  showPage('overview');
  replace($('#role-notice'));
  state.agency = viewer.agency;
  state.userId = viewer.userId;
  state.role = viewer.role;
  setPool(viewer.agency.poolAccount.balance);
  renderSwitch();
  renderUnpaid();
  const stopBackoffice = startBackoffice(api, {
    agency: state.agency,
    onBalance: (id, b) => setAccountBalance(id, b, true),
    onPool: (b) => setPool(b, true),
  });
  startActivity(api);
  startWebhooks(api);
  replace($('#allocate-currency'), `(${state.agency.defaultCurrency}, from the pool)`);

  await Promise.all([guard(loadPending()), guard(loadRecent()), guard(loadAccounts(true))]);
  const stopKeys = await startApiKeys(api);
  const stops = [
    stopKeys,
    stopBackoffice,
    api.subscribe(Q.onRequest, {}, { next: (d) => onRequestEvent(d.creditRequestUpdated), error: alertError }),
    api.subscribe(Q.onBalances, {}, { next: (d) => onBalanceEvent(d.agencyBalanceUpdated), error: alertError }),
  ];
  return () => {
    for (const s of stops) s();
  };
}

async function refresh() {
  if (!state || !state.agency) return;
  const d = await guard(api.request(Q.viewer));
  if (d && d.viewer.agency) {
    state.agency = d.viewer.agency;
    setPool(d.viewer.agency.poolAccount.balance);
    renderSwitch();
    renderUnpaid();
  }
  await Promise.all([guard(loadPending()), guard(loadRecent()), guard(loadAccounts(true)), guard(refreshApiKeys()),
    guard(refreshBackoffice(state.agency)), $('#activity-page').hidden ? null : loadActivity(true),
    $('#webhooks-page').hidden ? null : loadWebhooks()]);
}

// ------------------------------------------------------------ pages

// showPage shows the overview, the Activity page (the audit log) or the
// Webhooks page; the last two are read again at each visit.
const pages = { overview: '#dash-grid', activity: '#activity-page', webhooks: '#webhooks-page' };
function showPage(name) {
  for (const [page, sel] of Object.entries(pages)) {
    $(sel).hidden = page !== name;
    $(`#tab-${page}`).removeAttribute('aria-current');
  }
  $(`#tab-${name}`).setAttribute('aria-current', 'page');
  if (name === 'activity') loadActivity(true);
  if (name === 'webhooks') loadWebhooks();
}

// reloadAgency re-reads the agency after a change to what post-paid
// clients owe.
async function reloadAgency() {
  const d = await api.request(Q.viewer);
  if (!d.viewer.agency) return;
  Object.assign(state.agency, d.viewer.agency);
  renderUnpaid();
}

// renderUnpaid shows the accepted post-paid credit not yet paid.
function renderUnpaid() {
  const list = state.agency.unpaidPostpaid || [];
  replace($('#unpaid-postpaid'), list.length
    ? el('p', { class: 'unpaid-total' }, el('strong', {}, 'Unpaid post-paid: '),
      list.map((a, i) => [i ? ', ' : '', el('span', { class: 'amount', dataset: { currency: a.currency, amount: a.amount } }, money(a.amount, a.currency))]))
    : el('p', { class: 'hint unpaid-total' }, 'No unpaid post-paid credit.'));
}

// ------------------------------------------------------------ pool and settings

function setPool(b, flash = false) {
  if (state.pool && Date.parse(state.pool.updatedAt) > Date.parse(b.updatedAt)) return;
  state.pool = b;
  const widgets = $('#balance-widgets');
  const w = el('span', { class: 'balance-widget', id: `pool-${b.currency}`, dataset: { available: b.available } },
    el('span', { class: 'label' }, 'Pool'), el('span', { class: 'amount' }, money(b.available, b.currency)));
  replace(widgets, w);
  if (flash) {
    w.classList.add('flash');
    setTimeout(() => w.classList.remove('flash'), 1200);
  }
  replace($('#pool-balance'), el('div', { class: 'big-balance' },
    el('span', { class: 'amount' }, money(b.available, b.currency).replace(` ${b.currency}`, '')),
    el('span', { class: 'currency' }, b.currency),
    el('div', { class: 'hint' }, 'available to allocate, updated ', timeEl(b.updatedAt))));
}

function renderSwitch() {
  const sw = $('#payments-switch');
  sw.setAttribute('aria-checked', String(state.agency.creditPaymentsEnabled));
  sw.lastElementChild.textContent = `Credit payments ${state.agency.creditPaymentsEnabled ? 'on' : 'off'}`;
}

async function toggleCreditPayments(ev) {
  const want = !state.agency.creditPaymentsEnabled;
  const errBox = $('#settings-error');
  showError(errBox, null);
  try {
    const res = await busy(ev.currentTarget, api.request(Q.settings, { input: { creditPaymentsEnabled: want } }));
    state.agency.creditPaymentsEnabled = res.updateAgencySettings.creditPaymentsEnabled;
    renderSwitch();
    toast(want ? 'Credit payments are on: clients can pay invoices and services with credits.'
      : 'Credit payments are off: clients cannot spend credits until you turn them on again.');
  } catch (err) {
    showError(errBox, err);
  }
}

// ------------------------------------------------------------ requests

async function loadPending() {
  const d = await api.request(Q.pending);
  state.pending.clear();
  for (const { node } of d.requests.edges) state.pending.set(node.id, node);
  renderPending();
}

async function loadRecent() {
  const d = await api.request(Q.recent);
  state.recent.clear();
  for (const { node } of d.requests.edges) state.recent.set(node.id, node);
  renderRecent();
}

function onRequestEvent(r) {
  if (r.status === 'PENDING') {
    const isNew = !state.pending.has(r.id);
    state.pending.set(r.id, r);
    renderPending(isNew ? r.id : null);
    if (isNew) toast(`New request: ${r.account.name} asks for ${money(r.amount, r.currency)} (${label(methodLabels, r.method)}).`);
  } else {
    state.pending.delete(r.id);
    renderPending();
  }
  const isNewRecent = !state.recent.has(r.id);
  state.recent.set(r.id, r);
  renderRecent(isNewRecent ? r.id : null);
}

function sortNewest(list) {
  return list.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
}

function renderPending(newId) {
  const list = sortNewest([...state.pending.values()]);
  replace($('#pending-count'), String(list.length));
  const rows = list.map((r) => el('tr', { dataset: { id: r.id, reference: r.reference || '' }, class: r.id === newId ? 'new' : null },
    el('td', { 'data-label': 'Received', class: 'nowrap' }, timeEl(r.createdAt, true)),
    el('td', { 'data-label': 'Client' }, r.account.name),
    el('td', { 'data-label': 'Amount', class: 'num' }, money(r.amount, r.currency)),
    el('td', { 'data-label': 'Method' }, label(methodLabels, r.method)),
    el('td', { 'data-label': 'Reference' }, r.reference || '—'),
    el('td', { 'data-label': 'Review' }, notReviewable(r) ? el('span', { class: 'hint', dataset: { review: 'none' } }, notReviewable(r)) : el('div', { class: 'actions' },
      el('button', { type: 'button', id: `approve-${r.id}`, class: 'primary small approve', 'aria-label': `Approve ${money(r.amount, r.currency)} for ${r.account.name}`, onclick: (ev) => approve(r, ev.currentTarget) }, 'Approve'),
      el('button', { type: 'button', id: `reject-${r.id}`, class: 'small danger reject', 'aria-label': `Reject ${money(r.amount, r.currency)} for ${r.account.name}`, onclick: (ev) => reject(r, ev.currentTarget) }, 'Reject'))),
  ));
  rerender($('#pending-table tbody'), rows.length ? rows
    : el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No pending requests. New ones appear here as they arrive.')));
}

function renderRecent(newId) {
  const list = sortNewest([...state.recent.values()]).slice(0, 10);
  const rows = list.map((r) => el('tr', { dataset: { id: r.id, status: r.status }, class: r.id === newId ? 'new' : null },
    el('td', { 'data-label': 'Received', class: 'nowrap' }, timeEl(r.createdAt, true)),
    el('td', { 'data-label': 'Client' }, r.account.name),
    el('td', { 'data-label': 'Amount', class: 'num' }, money(r.amount, r.currency)),
    el('td', { 'data-label': 'Method' }, label(methodLabels, r.method), r.reference ? el('div', { class: 'reason' }, r.reference) : null),
    el('td', { 'data-label': 'Status' }, badge(label(statusLabels, r.status), r.status.toLowerCase()),
      r.status === 'ACCEPTED' && !r.paid ? [' ', badge('Unpaid', 'unpaid'), ' ',
        r.account.kind === 'AGENCY' && state.role !== 'SYSTEM_ADMIN' ? null : el('button', { type: 'button', class: 'small', 'aria-label': `Mark ${money(r.amount, r.currency)} from ${r.account.name} paid`, onclick: (ev) => markPaid(r, ev.currentTarget) }, 'Mark paid')] : null,
      r.rejectionReason ? el('div', { class: 'reason' }, r.rejectionReason) : null),
    el('td', { 'data-label': 'Reviewed' }, r.reviewedAt ? [timeEl(r.reviewedAt, true), r.reviewedBy ? el('div', { class: 'reason' }, r.reviewedBy) : null] : '—'),
  ));
  replace($('#recent-table tbody'), rows.length ? rows
    : el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No requests yet.')));
}

// review runs approve or reject; a CONFLICT (someone else reviewed it
// first) re-reads the lists.
async function review(button, mutation, input, done) {
  const errBox = $('#pending-error');
  showError(errBox, null);
  try {
    const data = await busy(button, api.request(mutation, { input }));
    const r = Object.values(data)[0].request;
    state.pending.delete(r.id);
    state.recent.set(r.id, r);
    renderPending();
    renderRecent();
    done(r);
  } catch (err) {
    showError(errBox, err);
    if (err.code === 'CONFLICT' || err.code === 'NOT_FOUND') {
      guard(loadPending());
      guard(loadRecent());
    }
  }
}

async function approve(r, button) {
  const ok = await confirmDialog({
    title: `Approve ${money(r.amount, r.currency)} for ${r.account.name}?`,
    text: `${money(r.amount, r.currency)} is credited to ${r.account.name} at once (${label(methodLabels, r.method)}${r.reference ? `, ${r.reference}` : ''}).`,
    confirm: 'Approve request',
  });
  if (!ok) return;
  await review(button, Q.approve, { requestId: r.id }, (done) => {
    toast(`Approved: ${money(done.amount, done.currency)} credited to ${done.account.name}.`);
    if (done.method === 'POSTPAID') guard(reloadAgency());
  });
}

async function reject(r, button) {
  const reason = await confirmDialog({
    title: `Reject ${money(r.amount, r.currency)} for ${r.account.name}?`,
    text: 'Nothing is credited. The client sees the reason.',
    reason: 'Reason',
    confirm: 'Reject request',
    danger: true,
  });
  if (reason === null) return;
  await review(button, Q.reject, { requestId: r.id, reason }, (done) => {
    toast(`Rejected the request of ${done.account.name} for ${money(done.amount, done.currency)}.`);
  });
}

async function markPaid(r, button) {
  const errBox = $('#recent-error');
  showError(errBox, null);
  try {
    const d = await busy(button, api.request(Q.markPaid, { input: { requestId: r.id } }));
    const done = d.markRequestPaid.request;
    state.recent.set(done.id, done);
    renderRecent();
    toast(`Marked the post-paid request of ${done.account.name} for ${money(done.amount, done.currency)} paid.`);
    guard(reloadAgency());
  } catch (err) {
    showError(errBox, err);
  }
}

// ------------------------------------------------------------ client accounts

async function loadAccounts(reset) {
  const d = await api.request(Q.accounts, { after: reset ? null : state.accountsAfter });
  const conn = d.agency.accounts;
  if (reset) state.accounts.clear();
  for (const { node } of conn.edges) {
    if (node.kind !== 'CLIENT') continue;
    state.accounts.set(node.id, {
      id: node.id,
      name: node.name,
      balances: new Map(node.balances.map((b) => [b.currency, b])),
    });
  }
  state.accountsTotal = conn.totalCount;
  state.accountsAfter = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
  $('#accounts-more').hidden = !state.accountsAfter;
  renderAccounts();
  renderAllocateChoices();
}

// onBalanceEvent routes a change of the agency stream: the pool's (in the
// default currency, the one shown) or a listed client's.
function onBalanceEvent(b) {
  if (b.account.id === state.agency.poolAccount.id) {
    if (b.currency === state.agency.defaultCurrency) setPool(b, true);
    return;
  }
  setAccountBalance(b.account.id, b, true);
}

function setAccountBalance(id, b, flash) {
  const a = state.accounts.get(id);
  if (!a) return;
  const cur = a.balances.get(b.currency);
  if (cur && Date.parse(cur.updatedAt) > Date.parse(b.updatedAt)) return;
  a.balances.set(b.currency, b);
  renderAccounts(flash ? id : null);
}

function renderAccounts(flashId) {
  const list = [...state.accounts.values()].sort((a, b) => a.name.localeCompare(b.name));
  const rows = list.map((a) => el('tr', { dataset: { id: a.id, name: a.name }, class: a.id === flashId ? 'new' : null },
    el('td', { 'data-label': 'Account' }, a.name),
    el('td', { 'data-label': 'Balance', class: 'num' },
      a.balances.size ? [...a.balances.values()].map((b, i) => [i ? el('br') : null, money(b.available, b.currency),
        // Credits set aside by active holds, when there are any.
        Number(b.held) > 0 ? el('span', { class: 'held hint' }, ` + ${money(b.held, b.currency)} held`) : null])
        : money('0.00', state.agency.defaultCurrency),
      [...a.balances.values()].filter((b) => Number(b.owed) > 0).map((b) => el('div', { class: 'owed' }, `${money(b.owed, b.currency)} owed`))),
    el('td', { 'data-label': 'Back office' }, el('button', { type: 'button', class: 'small manage', 'aria-label': `Open the back office of ${a.name}`, onclick: () => openClient(a) }, 'Manage')),
  ));
  replace($('#accounts-table tbody'), rows.length ? rows
    : el('tr', {}, el('td', { colspan: 3, class: 'empty' }, 'No client accounts yet.')));
  const shown = list.length;
  replace($('#accounts-count'), `${shown} client account${shown === 1 ? '' : 's'}${state.accountsAfter ? ' shown' : ''}`);
}

function renderAllocateChoices() {
  const sel = $('#allocate-account');
  const was = sel.value;
  const list = [...state.accounts.values()].sort((a, b) => a.name.localeCompare(b.name));
  replace(sel, list.map((a) => el('option', { value: a.id, selected: a.id === was }, a.name)));
}

const allocateKeys = new KeyRing('alloc');

async function allocate(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const errBox = $('#allocate-error');
  showError(errBox, null);
  const amount = form.amount.value.trim();
  if (!form.account.value) {
    showError(errBox, { code: 'BAD_USER_INPUT', message: 'Choose a client account' });
    form.account.focus();
    return;
  }
  if (!/^\d+(\.\d+)?$/.test(amount) || /^0*(\.0*)?$/.test(amount)) {
    showError(errBox, { code: 'BAD_USER_INPUT', message: 'Enter an amount greater than zero, such as 100 or 100.00' });
    form.amount.focus();
    return;
  }
  const input = { toAccountId: form.account.value, amount };
  const ref = form.reference.value.trim();
  if (ref) input.reference = ref;
  input.idempotencyKey = allocateKeys.for(input);
  try {
    const d = await busy($('#allocate-submit'), api.request(Q.allocate, { input }));
    allocateKeys.done();
    const res = d.allocateCredits;
    setPool(res.poolBalance, true);
    setAccountBalance(res.balance.account.id, res.balance, true);
    toast(`Allocated ${money(res.transaction.amount, res.transaction.currency)} to ${res.balance.account.name}. Pool: ${money(res.poolBalance.available, res.poolBalance.currency)}.`);
    form.amount.value = '';
    form.reference.value = '';
  } catch (err) {
    if (err.code !== 'NETWORK') allocateKeys.done();
    showError(errBox, err);
  }
}

// ------------------------------------------------------------ wiring

$('#payments-switch').addEventListener('click', toggleCreditPayments);
$('#allocate-form').addEventListener('submit', allocate);
$('#tab-overview').addEventListener('click', () => showPage('overview'));
$('#tab-activity').addEventListener('click', () => showPage('activity'));
$('#tab-webhooks').addEventListener('click', () => showPage('webhooks'));
$('#accounts-more').addEventListener('click', (ev) => guard(busy(ev.currentTarget, loadAccounts(false))));
boot({ preferRole: 'agency_admin', start, onRefresh: refresh });
