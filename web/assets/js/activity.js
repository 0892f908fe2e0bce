// The dashboard's "Activity" page: the agency's audit log, newest first
// (time, who, with which role, what, and what happened in a line), paged
// with "Load more" and filtered by action.

import { $, el, replace, timeEl, showError, busy } from './ui.js';
import { roleLabel } from './common.js';

const PAGE = 25;

const Q = {
  log: `query AuditLog($action: String, $after: String, $first: Int) {
    auditLog(action: $action, first: $first, after: $after) {
      totalCount
      edges { node { id at actor role action summary targetId account { id name } } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
};

// The actions the filter offers before any has been seen: the mutations an
// agency's people make and the jobs and webhooks that move money. Actions
// seen in the log are added.
const KNOWN_ACTIONS = [
  'adjustBalance', 'reclaimCredits', 'reverseTransaction', 'refundPayment', 'voidInvoice',
  'approveRequest', 'rejectRequest', 'markRequestPaid', 'allocateCredits', 'buyCredits',
  'payInvoice', 'payInvoiceWithCredit', 'sendInvoice', 'updateBilling', 'updateAgencySettings',
  'createApiKey', 'revokeApiKey', 'autoTopUp', 'stripeWebhook', 'paypalWebhook',
];

let api = null;
const log = { events: [], after: null, total: 0, action: '', actions: new Set(KNOWN_ACTIONS) };

export function startActivity(a) {
  api = a;
  log.events = [];
  log.after = null;
  renderFilter();
}

// loadActivity reads the first page again (the page is opened, the filter
// changed) or the next one.
export async function loadActivity(reset = true) {
  const errBox = $('#activity-error');
  showError(errBox, null);
  try {
    const d = await api.request(Q.log, { action: log.action || null, after: reset ? null : log.after, first: PAGE });
    const items = d.auditLog.edges.map((e) => e.node);
    log.events = reset ? items : [...log.events, ...items];
    log.total = d.auditLog.totalCount;
    log.after = d.auditLog.pageInfo.hasNextPage ? d.auditLog.pageInfo.endCursor : null;
    let added = false;
    for (const e of items) {
      if (!log.actions.has(e.action)) { log.actions.add(e.action); added = true; }
    }
    if (added) renderFilter();
    render();
  } catch (err) {
    showError(errBox, err);
  }
}

function renderFilter() {
  const sel = $('#activity-action');
  const list = [...log.actions].sort();
  replace(sel, el('option', { value: '' }, 'All actions'),
    list.map((a) => el('option', { value: a, selected: a === log.action }, a)));
}

function render() {
  const rows = log.events.map((e) => el('tr', { dataset: { id: e.id, action: e.action } },
    el('td', { 'data-label': 'Time', class: 'nowrap' }, timeEl(e.at)),
    el('td', { 'data-label': 'Actor' }, e.actor),
    el('td', { 'data-label': 'Role' }, e.role ? roleLabel(e.role) : 'System'),
    el('td', { 'data-label': 'Action' }, el('code', {}, e.action)),
    el('td', { 'data-label': 'Summary' }, e.summary, e.account ? el('div', { class: 'reason' }, e.account.name) : null),
  ));
  replace($('#activity-table tbody'), rows.length ? rows
    : el('tr', {}, el('td', { colspan: 5, class: 'empty' }, log.action ? `No ${log.action} events.` : 'Nothing recorded yet.')));
  replace($('#activity-count'), log.total ? `${log.events.length} of ${log.total}` : '');
  $('#activity-more').hidden = !log.after;
}

$('#activity-action').addEventListener('change', (ev) => {
  log.action = ev.target.value;
  loadActivity(true);
});
$('#activity-more').addEventListener('click', (ev) => busy(ev.currentTarget, loadActivity(false)));
