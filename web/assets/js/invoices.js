// A credit request's top-up invoice on the portal, in a row under the
// request: its number, amount due, due date and status; "Open invoice"
// (the printable document in a new tab) and, for an ONLINE request whose
// invoice is open, "Pay online" by card.

import {
  $, el, replace, money, timeEl, badge, label, statusLabels, showError, toast, busy, confirmDialog, newKey,
} from './ui.js';

const Q = {
  // The link expires: a fresh one is asked for at each opening.
  document: `query InvoiceDocument($id: ID!) { node(id: $id) { ... on Invoice { id documentUrl } } }`,
  pay: `mutation PayInvoiceOnline($input: PayInvoiceInput!) {
    payInvoice(input: $input) {
      status
      invoice { id number amount currency status dueAt }
      payment { provider providerRef status approvalUrl failureReason }
      request { id amount currency method reference status paid createdAt rejectionReason invoice { id number amount currency status dueAt } }
    }
  }`,
};

let api = null;
let hooks = { onRequest: () => {}, afterPayment: () => {} };

// startTopupInvoices binds the rows to the API. onRequest(r) takes a request
// an invoice payment changed; afterPayment() runs after any attempt.
export function startTopupInvoices(a, h) {
  api = a;
  hooks = h;
}

function payable(r) {
  return r.method === 'ONLINE' && (r.invoice.status === 'OPEN' || r.invoice.status === 'OVERDUE');
}

// invoiceRow is the row under request r that shows its invoice.
export function invoiceRow(r) {
  const inv = r.invoice;
  const what = `invoice ${inv.number}`;
  return el('tr', { class: 'invoice-row', dataset: { request: r.id, invoice: inv.number, status: inv.status } },
    el('td', { colspan: 4, 'data-label': 'Invoice' },
      el('div', { class: 'invoice-line' },
        el('span', {}, 'Invoice ', el('strong', {}, inv.number), ' · ',
          el('span', { class: 'due-amount' }, `${money(inv.amount, inv.currency)} due`),
          inv.dueAt ? [' by ', timeEl(inv.dueAt)] : null, ' ',
          badge(label(statusLabels, inv.status), inv.status.toLowerCase())),
        el('span', { class: 'actions' },
          el('button', { type: 'button', class: 'small open-invoice', 'aria-label': `Open ${what}`, onclick: (ev) => openDocument(inv, ev.currentTarget) }, 'Open invoice'),
          payable(r) ? el('button', { type: 'button', class: 'small primary pay-online', 'aria-label': `Pay ${what} online`, onclick: (ev) => payOnline(r, ev.currentTarget) }, 'Pay online') : null))));
}

async function openDocument(inv, button) {
  const errBox = $('#requests-error');
  showError(errBox, null);
  // Opened now, while the click still counts (a window opened after an
  // await is a blocked pop-up), and pointed at the document once known.
  const win = window.open('', '_blank');
  try {
    const d = await busy(button, api.request(Q.document, { id: inv.id }));
    const url = d.node && d.node.documentUrl;
    if (!url) throw new Error(`Invoice ${inv.number} has no document`);
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

const payKeys = new Map(); // invoice id -> idempotency key, kept until it succeeds

async function payOnline(r, button) {
  const inv = r.invoice;
  const ok = await confirmDialog({
    title: `Pay invoice ${inv.number} online?`,
    text: `${money(inv.amount, inv.currency)} is charged to a card; the ${money(r.amount, r.currency)} of credits arrive as soon as the payment succeeds.`,
    confirm: 'Pay by card',
  });
  if (!ok) return;
  const errBox = $('#requests-error');
  const result = $('#requests-result');
  showError(errBox, null);
  replace(result);
  if (!payKeys.has(inv.id)) payKeys.set(inv.id, newKey('payinv'));
  let res;
  try {
    res = (await busy(button, api.request(Q.pay, { input: { invoiceId: inv.id, method: 'CARD', idempotencyKey: payKeys.get(inv.id) } }))).payInvoice;
  } catch (err) {
    if (err.code !== 'NETWORK') payKeys.delete(inv.id);
    showError(errBox, err);
    hooks.afterPayment();
    return;
  }
  payKeys.delete(inv.id);
  if (res.request) hooks.onRequest(res.request);
  const p = res.payment || {};
  switch (res.status) {
    case 'COMPLETED':
      replace(result, el('p', { class: 'result ok', dataset: { status: res.status } },
        `Invoice ${res.invoice.number} is paid (${money(res.invoice.amount, res.invoice.currency)}): the credits are on your balance.`));
      toast(`Invoice ${res.invoice.number} is paid: ${money(r.amount, r.currency)} of credits added.`);
      break;
    case 'REQUIRES_ACTION':
      replace(result, el('p', { class: 'notice', dataset: { status: res.status } },
        `The payment (${p.provider} ${p.providerRef}) needs your confirmation. `,
        p.approvalUrl ? el('a', { href: p.approvalUrl, target: '_blank', rel: 'noopener' }, 'Continue with the provider') : 'Confirm it with your card provider.',
        ' The invoice turns paid and the credits arrive as soon as the provider confirms.'));
      break;
    case 'FAILED':
      showError(errBox, { code: 'PAYMENT_FAILED', message: `The payment was declined${p.failureReason ? ` (${p.failureReason})` : ''}: nothing was charged or credited` });
      break;
    default:
      showError(errBox, { code: 'HTTP', message: `Unexpected payment status ${res.status}` });
  }
  hooks.afterPayment();
}
