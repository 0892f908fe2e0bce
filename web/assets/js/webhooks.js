// The dashboard's "Webhooks" page: the agency's endpoints (URL, events,
// enabled or why not, the secret's prefix), adding one (its signing secret
// is shown once, like an API key's), turning one off and on, rotating its
// secret after a confirmation (the new one shown once), and per endpoint
// its delivery log with "Redeliver". A secret lives only in the page that
// received it, until it is dismissed or the page is left; it is never
// stored.

import { $, el, replace, timeEl, badge, showError, toast, busy, confirmDialog } from './ui.js';

const ENDPOINT = 'id url description events enabled disabledReason secretPrefix createdAt';
const DELIVERY = 'id messageId eventType status attempts createdAt lastAttemptAt nextAttemptAt responseCode latencyMs error';
const LOG_PAGE = 20;

const Q = {
  list: `query WebhookEndpoints($after: String) {
    webhookEndpoints(first: 100, after: $after) {
      edges { node { ${ENDPOINT} } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  deliveries: `query WebhookDeliveries($id: ID!, $status: WebhookDeliveryStatus, $after: String, $first: Int) {
    node(id: $id) { ... on WebhookEndpoint { id deliveries(status: $status, first: $first, after: $after) {
      totalCount
      edges { node { ${DELIVERY} } }
      pageInfo { hasNextPage endCursor }
    } } }
  }`,
  create: `mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) { secret endpoint { ${ENDPOINT} } }
  }`,
  update: `mutation UpdateWebhookEndpoint($input: UpdateWebhookEndpointInput!) {
    updateWebhookEndpoint(input: $input) { ${ENDPOINT} }
  }`,
  rotate: `mutation RotateWebhookSecret($input: RotateWebhookSecretInput!) {
    rotateWebhookSecret(input: $input) { secret endpoint { ${ENDPOINT} } }
  }`,
  redeliver: `mutation RedeliverWebhook($input: RedeliverWebhookInput!) {
    redeliverWebhook(input: $input) { ${DELIVERY} }
  }`,
};

// The events in the API's order: the enum value, its wire name (the body's
// `type`) and what it means.
const EVENTS = [
  ['BALANCE_LOW', 'balance.low', 'available fell below the low-balance alert'],
  ['BALANCE_DEPLETED', 'balance.depleted', 'available reached zero'],
  ['BALANCE_RECOVERED', 'balance.recovered', 'back at or above the alert'],
  ['TOPUP_SUCCEEDED', 'topup.succeeded', 'an auto top-up credited the account'],
  ['TOPUP_FAILED', 'topup.failed', 'an auto top-up was declined'],
  ['AUTOTOPUP_PAUSED', 'autotopup.paused', 'auto top-up paused itself'],
  ['REQUEST_CREATED', 'request.created', 'a credit request was submitted'],
  ['REQUEST_REVIEWED', 'request.reviewed', 'a credit request was accepted or rejected'],
  ['PAYMENT_SUCCEEDED', 'payment.succeeded', 'a card or PayPal payment credited'],
  ['PAYMENT_REFUNDED', 'payment.refunded', 'a payment was refunded'],
  ['HOLD_EXPIRED', 'hold.expired', 'a hold expired'],
  ['INVOICE_ISSUED', 'invoice.issued', 'a top-up invoice was issued'],
  ['INVOICE_PAID', 'invoice.paid', 'an invoice was paid'],
];
const wire = Object.fromEntries(EVENTS.map(([v, w]) => [v, w]));

const deliveryStatus = { PENDING: ['Pending', 'pending'], SUCCEEDED: ['Delivered', 'paid'], FAILED: ['Failed', 'rejected'] };

let api = null;
let endpoints = [];
// The endpoint whose delivery log is open, and that log.
const log = { endpoint: null, items: [], after: null, total: 0, status: '' };

// startWebhooks binds the page to the API and draws the event choices;
// the page is read at each visit (loadWebhooks).
export function startWebhooks(a) {
  api = a;
  endpoints = [];
  closeLog();
  replace($('#webhook-secret'));
  replace($('#webhook-event-choices'), EVENTS.map(([value, name, what]) => el('label', { class: 'check' },
    el('input', { type: 'checkbox', name: 'event', value }), el('span', {}, el('code', {}, name), ' ', el('span', { class: 'hint' }, what)))));
}

// loadWebhooks reads the endpoints again, and the open log with them.
export async function loadWebhooks() {
  const errBox = $('#webhooks-error');
  showError(errBox, null);
  try {
    const list = [];
    let after = null;
    do {
      const d = await api.request(Q.list, { after });
      list.push(...d.webhookEndpoints.edges.map((e) => e.node));
      after = d.webhookEndpoints.pageInfo.hasNextPage ? d.webhookEndpoints.pageInfo.endCursor : null;
    } while (after);
    endpoints = list;
    render();
    if (log.endpoint) {
      const ep = endpoints.find((e) => e.id === log.endpoint.id);
      if (ep) { log.endpoint = ep; await loadLog(true); } else closeLog();
    }
  } catch (err) {
    showError(errBox, err);
  }
}

function eventsText(evs) {
  return evs.length ? evs.map((e) => wire[e] || e).join(', ') : 'every event';
}

function render(highlight = null) {
  const rows = endpoints.map((ep) => el('tr', { id: `webhook-${ep.id}`, dataset: { id: ep.id, enabled: String(ep.enabled) }, class: ep.id === highlight ? 'new' : null },
    el('td', { 'data-label': 'Endpoint' }, el('code', { class: 'url' }, ep.url),
      ep.description ? el('div', { class: 'reason' }, ep.description) : null),
    el('td', { 'data-label': 'Events' }, eventsText(ep.events)),
    el('td', { 'data-label': 'Status' }, ep.enabled ? badge('Enabled', 'active')
      : [badge('Disabled', 'void'), ep.disabledReason ? el('div', { class: 'reason disabled-reason' }, ep.disabledReason) : null]),
    el('td', { 'data-label': 'Secret' }, el('code', {}, `${ep.secretPrefix}…`)),
    el('td', { 'data-label': 'Actions' }, el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'small show-log', 'aria-label': `Deliveries to ${ep.url}`, onclick: () => openLog(ep) }, 'Deliveries'),
      el('button', { type: 'button', class: `small toggle${ep.enabled ? ' danger' : ''}`, 'aria-label': `${ep.enabled ? 'Disable' : 'Enable'} ${ep.url}`, onclick: (ev) => toggle(ep, ev.currentTarget) },
        ep.enabled ? 'Disable' : 'Enable'),
      el('button', { type: 'button', class: 'small rotate', 'aria-label': `Rotate the secret of ${ep.url}`, onclick: (ev) => rotate(ep, ev.currentTarget) }, 'Rotate secret'))),
  ));
  replace($('#webhooks-table tbody'), rows.length ? rows
    : el('tr', {}, el('td', { colspan: 5, class: 'empty' }, 'No webhook endpoints yet.')));
}

function upsert(ep) {
  endpoints = [ep, ...endpoints.filter((e) => e.id !== ep.id)]
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  if (log.endpoint && log.endpoint.id === ep.id) {
    log.endpoint = ep;
    renderLog();
  }
  render(ep.id);
}

// ------------------------------------------------------------ create, toggle, rotate

async function create(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const errBox = $('#webhook-error');
  showError(errBox, null);
  replace($('#webhook-secret'));
  const url = form.elements.url.value.trim();
  const description = form.elements.description.value.trim();
  const events = [...form.querySelectorAll('input[name=event]:checked')].map((c) => c.value);
  if (!url) {
    showError(errBox, { code: 'BAD_USER_INPUT', message: 'Enter the URL events are sent to, e.g. https://crm.example.com/hooks' });
    form.elements.url.focus();
    return;
  }
  const input = { url, events };
  if (description) input.description = description;
  try {
    const d = await busy($('#webhook-submit'), api.request(Q.create, { input }));
    const { secret, endpoint } = d.createWebhookEndpoint;
    upsert(endpoint);
    form.reset();
    showSecret(endpoint, secret, 'new');
  } catch (err) {
    showError(errBox, err);
  }
}

async function toggle(ep, button) {
  const enable = !ep.enabled;
  if (!enable) {
    const ok = await confirmDialog({
      title: `Disable the endpoint ${ep.url}?`,
      text: 'Nothing more is sent to it, and its pending deliveries fail. Enabling it again resends nothing: redeliver what it missed.',
      confirm: 'Disable endpoint', danger: true,
    });
    if (!ok) return;
  }
  const errBox = $('#webhooks-error');
  showError(errBox, null);
  try {
    const d = await busy(button, api.request(Q.update, { input: { endpointId: ep.id, enabled: enable } }));
    upsert(d.updateWebhookEndpoint);
    toast(enable ? `Events are sent to ${ep.url} again.` : `Nothing more is sent to ${ep.url}.`);
    if (log.endpoint && log.endpoint.id === ep.id) await loadLog(true);
  } catch (err) {
    showError(errBox, err);
  }
}

async function rotate(ep, button) {
  const ok = await confirmDialog({
    title: `Rotate the secret of ${ep.url}?`,
    text: `A new secret replaces ${ep.secretPrefix}… at once: every later delivery, retries included, is signed with the new one. Put it in the receiver right away.`,
    confirm: 'Rotate secret', danger: true,
  });
  if (!ok) return;
  const errBox = $('#webhooks-error');
  showError(errBox, null);
  replace($('#webhook-secret'));
  try {
    const d = await busy(button, api.request(Q.rotate, { input: { endpointId: ep.id } }));
    const { secret, endpoint } = d.rotateWebhookSecret;
    upsert(endpoint);
    showSecret(endpoint, secret, 'rotated');
  } catch (err) {
    showError(errBox, err);
  }
}

// showSecret shows an endpoint's signing secret once, with a copy button.
function showSecret(ep, secret, why) {
  const input = el('input', { type: 'text', id: 'webhook-secret-value', readonly: true, value: secret, 'aria-label': `Signing secret of ${ep.url}`, spellcheck: 'false', style: 'flex:1;font-family:monospace' });
  const copy = el('button', { type: 'button', id: 'webhook-copy', class: 'small' }, 'Copy');
  copy.addEventListener('click', async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(secret);
      toast('The secret is on the clipboard.');
    } catch {
      // No clipboard (insecure origin, permission): the text is selected.
      document.execCommand && document.execCommand('copy');
      toast('The secret is selected: copy it with Ctrl+C.');
    }
  });
  const done = el('button', { type: 'button', class: 'small', id: 'webhook-secret-done' }, 'Done');
  done.addEventListener('click', () => replace($('#webhook-secret')));
  replace($('#webhook-secret'), el('div', { class: 'notice secret', role: 'status', dataset: { endpoint: ep.id, why } },
    el('p', {}, el('strong', {}, `Copy the ${why === 'rotated' ? 'new ' : ''}signing secret of ${ep.url} now: it is shown only this once.`),
      ' The receiver checks each event\'s webhook-signature with it (Standard Webhooks); if you lose it, rotate it.'),
    el('div', { class: 'field', style: 'display:flex;gap:0.5rem;align-items:center' }, input, copy, done)));
  input.focus();
  input.select();
}

// ------------------------------------------------------------ delivery log

function openLog(ep) {
  log.endpoint = ep;
  log.status = '';
  $('#webhook-log-status').value = '';
  $('#webhook-log').hidden = false;
  loadLog(true).then(() => $('#webhook-log-title').focus());
}

function closeLog() {
  log.endpoint = null;
  log.items = [];
  log.after = null;
  $('#webhook-log').hidden = true;
}

async function loadLog(reset) {
  const ep = log.endpoint;
  if (!ep) return;
  const errBox = $('#webhook-log-error');
  showError(errBox, null);
  try {
    const d = await api.request(Q.deliveries, { id: ep.id, status: log.status || null, after: reset ? null : log.after, first: LOG_PAGE });
    if (!log.endpoint || log.endpoint.id !== ep.id) return; // another log was opened meanwhile
    if (!d.node) throw Object.assign(new Error('This endpoint is gone'), { code: 'NOT_FOUND' });
    const conn = d.node.deliveries;
    const items = conn.edges.map((e) => e.node);
    log.items = reset ? items : [...log.items, ...items];
    log.total = conn.totalCount;
    log.after = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
    renderLog();
  } catch (err) {
    showError(errBox, err);
  }
}

function renderLog(highlight = null) {
  const ep = log.endpoint;
  if (!ep) return;
  replace($('#webhook-log-title'), 'Deliveries to ', el('code', {}, ep.url));
  const rows = log.items.map((d) => {
    const [text, kind] = deliveryStatus[d.status] || [d.status, ''];
    return el('tr', { dataset: { id: d.id, status: d.status, event: wire[d.eventType] || d.eventType }, class: d.id === highlight ? 'new' : null },
      el('td', { 'data-label': 'Time', class: 'nowrap' }, timeEl(d.createdAt, true)),
      el('td', { 'data-label': 'Event' }, el('code', {}, wire[d.eventType] || d.eventType), el('div', { class: 'reason' }, d.messageId)),
      el('td', { 'data-label': 'Status' }, badge(text, kind),
        d.status === 'PENDING' && d.nextAttemptAt ? el('div', { class: 'reason' }, 'next attempt ', timeEl(d.nextAttemptAt, true)) : null),
      el('td', { 'data-label': 'Attempts', class: 'num' }, String(d.attempts)),
      el('td', { 'data-label': 'Response', class: 'num' }, d.responseCode === null ? '—' : String(d.responseCode)),
      el('td', { 'data-label': 'Latency', class: 'num' }, d.latencyMs === null ? '—' : `${d.latencyMs} ms`),
      el('td', { 'data-label': 'Error', class: 'delivery-error' }, d.error || '—'),
      el('td', { 'data-label': 'Redeliver' }, el('button', {
        type: 'button', class: 'small redeliver', disabled: !ep.enabled,
        title: ep.enabled ? null : 'Enable the endpoint first',
        'aria-label': `Redeliver ${wire[d.eventType] || d.eventType} ${d.messageId}`, onclick: (ev) => redeliver(d, ev.currentTarget),
      }, 'Redeliver')),
    );
  });
  replace($('#webhook-deliveries tbody'), rows.length ? rows
    : el('tr', {}, el('td', { colspan: 8, class: 'empty' }, log.status ? 'No deliveries in this status.' : 'Nothing sent to this endpoint yet.')));
  replace($('#webhook-log-count'), log.total ? `${log.items.length} of ${log.total}` : '');
  $('#webhook-log-more').hidden = !log.after;
}

async function redeliver(d, button) {
  const errBox = $('#webhook-log-error');
  showError(errBox, null);
  try {
    const r = await busy(button, api.request(Q.redeliver, { input: { deliveryId: d.id } }));
    const nd = r.redeliverWebhook;
    log.items = log.items.map((x) => (x.id === nd.id ? nd : x));
    renderLog(nd.id);
    toast(`${wire[nd.eventType] || nd.eventType} is being sent again with the same webhook-id (${nd.messageId}).`);
  } catch (err) {
    showError(errBox, err);
  }
}

// ------------------------------------------------------------ wiring

$('#webhook-form').addEventListener('submit', create);
$('#webhook-log-refresh').addEventListener('click', (ev) => busy(ev.currentTarget, loadLog(true)));
$('#webhook-log-more').addEventListener('click', (ev) => busy(ev.currentTarget, loadLog(false)));
$('#webhook-log-close').addEventListener('click', closeLog);
$('#webhook-log-status').addEventListener('change', (ev) => {
  log.status = ev.target.value;
  loadLog(true);
});
