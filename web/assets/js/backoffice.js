// The dashboard's back office for one client account at a time: its
// balances (what is owed too), history, card payments and invoices, and the
// corrections an agency admin makes there: adjust (IN or OUT), reclaim into
// the pool, reverse a transaction, refund a payment, void an invoice. Each
// is a dialog that asks for a reason (required here even where the API
// would take none, so every correction says why), then for a confirmation;
// what the API refuses is shown in the dialog, in words. Also the agency's
// billing terms and the client's billing e-mail (updateBilling).

import {
  $, el, replace, money, timeEl, kindLabels, statusLabels, label, badge, showError, toast, busy, KeyRing,
} from './ui.js';
import { guard } from './common.js';
import { plainReference } from './references.js';

const TX = 'id createdAt type kind reference amount currency runningBalance reason actor reversedBy { id } payment { id provider providerRef status amount currency refunded }';
const BAL = 'currency available held owed updatedAt';
const INV = 'id number kind amount currency status issuedAt dueAt voidReason';

const Q = {
  client: `query ClientAccount($id: ID!) {
    node(id: $id) { ... on Account { id name kind billingEmail balances { ${BAL} } } }
  }`,
  history: `query ClientHistory($accountId: ID, $currency: String, $after: String) {
    history(accountId: $accountId, currency: $currency, first: 20, after: $after) {
      totalCount
      edges { node { ${TX} } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  invoices: `query ClientInvoices($accountId: ID) {
    invoices(accountId: $accountId, first: 50) { edges { node { ${INV} } } }
  }`,
  adjust: `mutation AdjustBalance($input: AdjustBalanceInput!) {
    adjustBalance(input: $input) { transaction { ${TX} } balance { ${BAL} } }
  }`,
  reclaim: `mutation ReclaimCredits($input: ReclaimCreditsInput!) {
    reclaimCredits(input: $input) { transaction { ${TX} } balance { ${BAL} } poolBalance { currency available updatedAt } }
  }`,
  reverse: `mutation ReverseTransaction($input: ReverseTransactionInput!) {
    reverseTransaction(input: $input) { transaction { ${TX} } balance { ${BAL} } poolBalance { currency available updatedAt } invoice { ${INV} } }
  }`,
  refund: `mutation RefundPayment($input: RefundPaymentInput!) {
    refundPayment(input: $input) { transaction { ${TX} } balance { ${BAL} } payment { id status amount currency refunded } }
  }`,
  voidInvoice: `mutation VoidInvoice($input: VoidInvoiceInput!) { voidInvoice(input: $input) { ${INV} } }`,
  billing: `mutation UpdateBilling($input: UpdateBillingInput!) {
    updateBilling(input: $input) { id invoiceDueDays bankDetails }
  }`,
};

// Transactions undone by refundPayment, never by reversal (the contract).
const NOT_REVERSIBLE = new Set(['PURCHASE', 'AUTO_TOPUP', 'REVERSAL']);
// Credits a provider payment bought: the rows a refund starts from.
const PAID_IN = new Set(['PURCHASE', 'AUTO_TOPUP']);

let api = null;
let ctx = null; // { agency, onBalance(accountId, b), onPool(b) }
let client = null; // { id, name, billingEmail, balances, currency, history: [], after, total, invoices: [] }

// startBackoffice binds the section to the API; ctx.agency is the viewer's
// agency (its defaultCurrency, invoiceDueDays, bankDetails), onBalance and
// onPool take the balances a correction answers with.
export function startBackoffice(a, c) {
  api = a;
  ctx = c;
  client = null;
  $('#client').hidden = true;
  renderBilling();
  return () => { client = null; };
}

export async function refreshBackoffice(agency) {
  if (agency) ctx.agency = agency;
  renderBilling();
  if (client) await loadClient(client.id);
}

// openClient shows account {id, name} in the back-office section.
export async function openClient(account) {
  const section = $('#client');
  section.hidden = false;
  replace($('#client-title'), `Client account: ${account.name}`);
  showError($('#client-error'), null);
  await guard(loadClient(account.id));
  section.scrollIntoView({ block: 'start' });
  $('#client-title').focus();
}

async function loadClient(id) {
  const d = await api.request(Q.client, { id });
  const acc = d.node;
  const prev = client && client.id === id ? client : null;
  client = {
    id: acc.id,
    name: acc.name,
    billingEmail: acc.billingEmail,
    balances: acc.balances,
    currency: prev ? prev.currency : ctx.agency.defaultCurrency,
    history: [],
    after: null,
    total: 0,
    invoices: [],
  };
  if (!client.balances.some((b) => b.currency === client.currency) && client.balances.length) client.currency = client.balances[0].currency;
  renderClient();
  await Promise.all([loadHistory(true), loadInvoices()]);
}

async function loadHistory(reset) {
  const c = client;
  const d = await api.request(Q.history, { accountId: c.id, currency: c.currency, after: reset ? null : c.after });
  if (c !== client) return;
  const items = d.history.edges.map((e) => e.node);
  c.history = reset ? items : [...c.history, ...items];
  c.total = d.history.totalCount;
  c.after = d.history.pageInfo.hasNextPage ? d.history.pageInfo.endCursor : null;
  renderHistory();
}

async function loadInvoices() {
  const c = client;
  const d = await api.request(Q.invoices, { accountId: c.id });
  if (c !== client) return;
  c.invoices = d.invoices.edges.map((e) => e.node);
  renderInvoices();
}

// ------------------------------------------------------------ rendering

function renderClient() {
  const c = client;
  replace($('#client-title'), `Client account: ${c.name}`);
  const list = c.balances.length ? c.balances : [{ currency: c.currency, available: '0.00', held: '0.00', owed: '0.00' }];
  replace($('#client-balances'), list.map((b) => el('div', { class: 'big-balance', id: `client-balance-${b.currency}`, dataset: { available: b.available } },
    el('span', { class: 'amount' }, money(b.available, b.currency).replace(` ${b.currency}`, '')),
    el('span', { class: 'currency' }, b.currency),
    Number(b.held) > 0 ? el('div', { class: 'hint' }, `${money(b.held, b.currency)} held`) : null,
    Number(b.owed) > 0 ? el('div', { class: 'owed', id: `client-owed-${b.currency}` }, `${money(b.owed, b.currency)} owed`) : null)));
  const sel = $('#client-currency');
  replace(sel, list.map((b) => el('option', { value: b.currency, selected: b.currency === c.currency }, b.currency)));
  $('#client-currency-field').hidden = list.length < 2;
  $('#client-billing-email').value = c.billingEmail || '';
}

function renderHistory() {
  const c = client;
  const rows = c.history.map((t) => el('tr', { dataset: { id: t.id, kind: t.kind, type: t.type }, class: t.reversedBy ? 'reversed' : null },
    el('td', { 'data-label': 'Date', class: 'nowrap' }, timeEl(t.createdAt, true)),
    el('td', { 'data-label': 'Kind' }, badge(t.type === 'IN' ? 'In' : 'Out', t.type === 'IN' ? 'in' : 'out'), ' ', label(kindLabels, t.kind),
      t.reversedBy ? [' ', badge('Reversed', 'reversed')] : null),
    el('td', { 'data-label': 'Reference' }, plainReference(t.kind, t.reference) || '—',
      t.reason ? el('div', { class: 'reason', dataset: { reason: '' } }, t.reason) : null,
      el('div', { class: 'reason' }, `by ${t.actor}`)),
    el('td', { 'data-label': 'Amount', class: `num ${t.type === 'IN' ? 'amount-in' : 'amount-out'}` },
      `${t.type === 'IN' ? '+' : '−'}${money(t.amount, t.currency)}`),
    el('td', { 'data-label': 'Balance', class: 'num' }, money(t.runningBalance, t.currency)),
    el('td', { 'data-label': 'Correct' }, el('div', { class: 'actions' },
      !t.reversedBy && !NOT_REVERSIBLE.has(t.kind)
        ? el('button', { type: 'button', class: 'small reverse', 'aria-label': `Reverse ${label(kindLabels, t.kind)} ${money(t.amount, t.currency)}`, onclick: (ev) => reverse(t, ev.currentTarget) }, 'Reverse') : null,
      refundable(t)
        ? el('button', { type: 'button', class: 'small refund', 'aria-label': `Refund payment ${money(t.payment.amount, t.payment.currency)}`, onclick: (ev) => refund(t, ev.currentTarget) }, 'Refund') : null,
      PAID_IN.has(t.kind) && t.payment && Number(t.payment.refunded) > 0 ? el('span', { class: 'reason' }, `${money(t.payment.refunded, t.payment.currency)} refunded`) : null)),
  ));
  replace($('#client-history tbody'), rows.length ? rows
    : el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No transactions in this currency.')));
  replace($('#client-history-count'), c.total ? `${c.history.length} of ${c.total}` : '');
  $('#client-history-more').hidden = !c.after;
}

// refundable: t is the credit a provider payment bought, with some of the
// payment not refunded yet (a REFUND links its payment too).
function refundable(t) {
  const p = t.payment;
  return PAID_IN.has(t.kind) && p && p.status === 'SUCCEEDED' && Number(p.refunded) < Number(p.amount);
}

function renderInvoices() {
  const rows = client.invoices.map((inv) => el('tr', { dataset: { id: inv.id, number: inv.number, status: inv.status } },
    el('td', { 'data-label': 'Invoice', class: 'nowrap' }, inv.number, inv.kind === 'CREDIT_TOPUP' ? el('div', { class: 'reason' }, 'credit top-up') : null),
    el('td', { 'data-label': 'Amount', class: 'num' }, money(inv.amount, inv.currency)),
    el('td', { 'data-label': 'Due' }, inv.dueAt ? timeEl(inv.dueAt, true) : '—'),
    el('td', { 'data-label': 'Status' }, badge(label(statusLabels, inv.status), inv.status.toLowerCase()),
      inv.voidReason ? el('div', { class: 'reason' }, inv.voidReason) : null),
    el('td', { 'data-label': 'Correct' }, inv.status === 'OPEN' || inv.status === 'OVERDUE'
      ? el('button', { type: 'button', class: 'small danger void', 'aria-label': `Void invoice ${inv.number}`, onclick: (ev) => voidInvoice(inv, ev.currentTarget) }, 'Void') : null),
  ));
  replace($('#client-invoices tbody'), rows.length ? rows
    : el('tr', {}, el('td', { colspan: 5, class: 'empty' }, 'No invoices.')));
}

function renderBilling() {
  const a = ctx.agency;
  $('#billing-due-days').value = String(a.invoiceDueDays ?? '');
  $('#billing-bank').value = a.bankDetails || '';
}

// ------------------------------------------------------------ the dialog

// correctionDialog asks for the fields of a correction and a reason, then
// for a confirmation (what will happen, in a sentence), then runs
// submit(values); an error from the API stays in the dialog, in words, and
// the user may change the input and try again. It resolves to submit's
// answer, or null when cancelled.
function correctionDialog({ title, fields = [], confirmText, confirm, danger = false, submit }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const error = el('div', { class: 'dialog-error', role: 'alert' });
    const reason = el('textarea', { id: 'correction-reason', name: 'reason', required: true, maxlength: 1000, style: 'font-family:inherit' });
    const inputs = fields.map((f) => f.node);
    const step1 = el('div', { class: 'step', dataset: { step: 'input' } },
      inputs.map((n) => el('div', { class: 'field' }, n)),
      el('div', { class: 'field' }, el('label', { for: 'correction-reason' }, 'Reason ', el('span', { class: 'hint' }, '(required; kept with the correction)')), reason));
    const step2 = el('div', { class: 'step', dataset: { step: 'confirm' }, hidden: true });
    const next = el('button', { type: 'submit', class: 'primary', id: 'correction-next' }, 'Continue');
    const ok = el('button', { type: 'submit', class: danger ? 'primary danger-fill' : 'primary', id: 'correction-confirm', hidden: true }, confirm);
    const back = el('button', { type: 'button', id: 'correction-back', hidden: true }, 'Back');
    const cancel = el('button', { type: 'button', onclick: () => dlg.close('cancel') }, 'Cancel');
    const form = el('form', { novalidate: true },
      el('h2', { id: 'dialog-title' }, title), step1, step2, error,
      el('div', { class: 'actions' }, next, ok, back, cancel));
    const dlg = el('dialog', { 'aria-labelledby': 'dialog-title', class: 'correction' }, form);
    let values = null;
    let answer = null;

    const toStep = (confirming) => {
      step1.hidden = confirming;
      step2.hidden = !confirming;
      next.hidden = confirming;
      ok.hidden = !confirming;
      back.hidden = !confirming;
      (confirming ? ok : (inputs[0] ? inputs[0].querySelector('input, select') || reason : reason)).focus();
    };
    back.addEventListener('click', () => { showError(error, null); toStep(false); });

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      showError(error, null);
      if (step2.hidden) {
        values = { reason: reason.value.trim() };
        for (const f of fields) {
          const v = f.read();
          if (v && v.error) {
            showError(error, { code: 'BAD_USER_INPUT', message: v.error });
            return;
          }
          values[f.name] = v.value;
        }
        if (!values.reason) {
          showError(error, { code: 'BAD_USER_INPUT', message: 'Give a reason: it is kept with the correction and shown in the history' });
          reason.focus();
          return;
        }
        replace(step2, el('p', {}, confirmText(values)), el('p', { class: 'reason' }, 'Reason: ', values.reason));
        toStep(true);
        return;
      }
      try {
        answer = await busy(ok, submit(values));
        dlg.close('ok');
      } catch (err) {
        showError(error, err);
      }
    });
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(dlg.returnValue === 'ok' ? answer : null);
    });
    document.body.append(dlg);
    dlg.showModal();
    toStep(false);
  });
}

// amountField is a required positive decimal amount (or optional: empty
// reads as null).
function amountField(name, text, { optional = false, placeholder = 'e.g. 25.00' } = {}) {
  const id = `correction-${name}`;
  const input = el('input', { type: 'text', id, name, inputmode: 'decimal', autocomplete: 'off', placeholder });
  return {
    name,
    node: el('div', {}, el('label', { for: id }, text), input),
    read: () => {
      const v = input.value.trim();
      if (!v && optional) return { value: null };
      if (!/^\d+(\.\d+)?$/.test(v) || /^0*(\.0*)?$/.test(v)) return { error: 'Enter an amount greater than zero, such as 25 or 25.00' };
      return { value: v };
    },
  };
}

function directionField() {
  const box = el('fieldset', { class: 'choices two', id: 'correction-type' },
    el('legend', {}, 'Direction'),
    el('label', { class: 'choice' }, el('input', { type: 'radio', name: 'type', value: 'IN', checked: true }), el('span', {}, 'Add credits (IN)')),
    el('label', { class: 'choice' }, el('input', { type: 'radio', name: 'type', value: 'OUT' }), el('span', {}, 'Remove credits (OUT)')));
  return { name: 'type', node: box, read: () => ({ value: box.querySelector('input:checked').value }) };
}

// ------------------------------------------------------------ corrections

const adjustKeys = new KeyRing('adjust');
const reclaimKeys = new KeyRing('reclaim');
const reverseKeys = new KeyRing('reverse');
const refundKeys = new KeyRing('refund');

// after applies a correction's answer: the balances on the page, and the
// account's history and invoices re-read.
function after(res, message) {
  if (res.balance) ctx.onBalance(client.id, res.balance);
  if (res.poolBalance) ctx.onPool(res.poolBalance);
  toast(message);
  return guard(loadClient(client.id));
}

async function adjust() {
  if (!client) return;
  const c = client;
  const res = await correctionDialog({
    title: `Adjust the balance of ${c.name}`,
    fields: [directionField(), amountField('amount', `Amount (${c.currency})`)],
    confirm: 'Adjust balance',
    confirmText: (v) => v.type === 'IN'
      ? `Add ${money(v.amount, c.currency)} to ${c.name}.`
      : `Remove ${money(v.amount, c.currency)} from ${c.name} (never below zero).`,
    submit: async (v) => {
      const input = { accountId: c.id, type: v.type, amount: v.amount, currency: c.currency, reason: v.reason };
      input.idempotencyKey = adjustKeys.for(input);
      try {
        const d = await api.request(Q.adjust, { input });
        adjustKeys.done();
        return d.adjustBalance;
      } catch (err) {
        if (err.code !== 'NETWORK') adjustKeys.done();
        throw err;
      }
    },
  });
  if (res) await after(res, `Adjusted ${c.name}: ${res.transaction.type === 'IN' ? '+' : '−'}${money(res.transaction.amount, res.transaction.currency)}. Balance: ${money(res.balance.available, res.balance.currency)}.`);
}

async function reclaim() {
  if (!client) return;
  const c = client;
  const res = await correctionDialog({
    title: `Reclaim credits from ${c.name}`,
    fields: [amountField('amount', `Amount (${c.currency})`)],
    confirm: 'Reclaim credits',
    danger: true,
    confirmText: (v) => `Move ${money(v.amount, c.currency)} from ${c.name} back to the agency's pool.`,
    submit: async (v) => {
      const input = { fromAccountId: c.id, amount: v.amount, currency: c.currency, reason: v.reason };
      input.idempotencyKey = reclaimKeys.for(input);
      try {
        const d = await api.request(Q.reclaim, { input });
        reclaimKeys.done();
        return d.reclaimCredits;
      } catch (err) {
        if (err.code !== 'NETWORK') reclaimKeys.done();
        throw err;
      }
    },
  });
  if (res) await after(res, `Reclaimed ${money(res.transaction.amount, res.transaction.currency)} from ${c.name} into the pool.`);
}

async function reverse(t) {
  const c = client;
  const what = `${label(kindLabels, t.kind)} of ${money(t.amount, t.currency)}`;
  const res = await correctionDialog({
    title: `Reverse the ${what}?`,
    confirm: 'Reverse transaction',
    danger: true,
    confirmText: () => `${t.type === 'IN' ? `${money(t.amount, t.currency)} is taken back from` : `${money(t.amount, t.currency)} is given back to`} ${c.name}${t.kind === 'INVOICE_PAYMENT' ? ', and the invoice is open again' : ''}. A transaction is reversed once.`,
    submit: async (v) => {
      const input = { transactionId: t.id, reason: v.reason };
      input.idempotencyKey = reverseKeys.for(input);
      try {
        const d = await api.request(Q.reverse, { input });
        reverseKeys.done();
        return d.reverseTransaction;
      } catch (err) {
        if (err.code !== 'NETWORK') reverseKeys.done();
        throw err;
      }
    },
  });
  if (res) await after(res, `Reversed the ${what}${res.invoice ? `: invoice ${res.invoice.number} is open again` : ''}.`);
}

async function refund(t) {
  const c = client;
  const p = t.payment;
  const res = await correctionDialog({
    title: `Refund the payment of ${money(p.amount, p.currency)}?`,
    fields: [amountField('amount', `Amount to refund (${p.currency}; empty: all that is not refunded yet)`, { optional: true, placeholder: `up to ${p.amount}` })],
    confirm: 'Refund payment',
    danger: true,
    confirmText: (v) => `${v.amount ? money(v.amount, p.currency) : 'What is not refunded yet'} goes back to the payer through ${p.provider}, and the credits it bought are taken from ${c.name} first.`,
    submit: async (v) => {
      const input = { paymentId: p.id, reason: v.reason };
      if (v.amount) input.amount = v.amount;
      input.idempotencyKey = refundKeys.for(input);
      try {
        const d = await api.request(Q.refund, { input });
        refundKeys.done();
        return d.refundPayment;
      } catch (err) {
        if (err.code !== 'NETWORK') refundKeys.done();
        throw err;
      }
    },
  });
  if (res) await after(res, `Refunded ${money(res.transaction.amount, res.transaction.currency)} of credits from ${c.name}.`);
}

async function voidInvoice(inv) {
  const c = client;
  const res = await correctionDialog({
    title: `Void invoice ${inv.number}?`,
    confirm: 'Void invoice',
    danger: true,
    confirmText: () => `Invoice ${inv.number} (${money(inv.amount, inv.currency)}) of ${c.name} is void: nobody can pay it any more${inv.kind === 'CREDIT_TOPUP' ? ', and its pending credit request is rejected' : ''}.`,
    submit: async (v) => (await api.request(Q.voidInvoice, { input: { invoiceId: inv.id, reason: v.reason } })).voidInvoice,
  });
  if (res) {
    toast(`Invoice ${res.number} is void.`);
    await guard(loadClient(c.id));
  }
}

// ------------------------------------------------------------ billing

async function saveBilling(ev) {
  ev.preventDefault();
  const errBox = $('#billing-error');
  showError(errBox, null);
  const days = $('#billing-due-days').value.trim();
  if (!/^\d{1,3}$/.test(days) || Number(days) > 365) {
    showError(errBox, { code: 'BAD_USER_INPUT', message: 'Enter the days until an invoice is due, 0 to 365' });
    $('#billing-due-days').focus();
    return;
  }
  try {
    const d = await busy($('#billing-submit'), api.request(Q.billing, { input: { invoiceDueDays: Number(days), bankDetails: $('#billing-bank').value.trim() } }));
    Object.assign(ctx.agency, d.updateBilling);
    renderBilling();
    toast('Billing terms saved: new invoices use them.');
  } catch (err) {
    showError(errBox, err);
  }
}

async function saveBillingEmail(ev) {
  ev.preventDefault();
  if (!client) return;
  const errBox = $('#client-error');
  showError(errBox, null);
  const email = $('#client-billing-email').value.trim();
  if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) {
    showError(errBox, { code: 'BAD_USER_INPUT', message: 'Enter an e-mail address such as billing@example.com, or nothing' });
    return;
  }
  try {
    await busy($('#client-billing-submit'), api.request(Q.billing, { input: { accountId: client.id, billingEmail: email } }));
    client.billingEmail = email || null;
    toast(email ? `Invoices of ${client.name} go to ${email}.` : `Invoices of ${client.name} are not e-mailed any more.`);
  } catch (err) {
    showError(errBox, err);
  }
}

// ------------------------------------------------------------ wiring

$('#client-adjust').addEventListener('click', () => guard(adjust()));
$('#client-reclaim').addEventListener('click', () => guard(reclaim()));
$('#client-close').addEventListener('click', () => {
  client = null;
  $('#client').hidden = true;
});
$('#client-currency').addEventListener('change', (ev) => {
  if (!client) return;
  client.currency = ev.target.value;
  guard(loadHistory(true));
});
$('#client-history-more').addEventListener('click', (ev) => guard(busy(ev.currentTarget, loadHistory(false))));
$('#client-billing-form').addEventListener('submit', saveBillingEmail);
$('#billing-form').addEventListener('submit', saveBilling);
