// The portal's "Payment settings": saved cards (add, remove), a one-time
// top-up with a saved card, the auto top-up rule (threshold, FIXED or
// TOP_UP_TO, card, monthly cap; its status, last failure and retry time)
// and the low-balance alert (threshold, e-mail, state), for the agency's
// default currency.
//
// Who sees what comes from the API: buying (the one-time top-up) from
// Account.canBuyCredits; the rest from the viewer's role as the contract's
// table says (the schema's @hasRole; spec README "Separation of duties"):
// owners (and system admins, as support) manage cards and auto top-up,
// agency admins read them and set alerts, plain clients see none of it.

import {
  $, el, replace, money, timeEl, badge, showError, toast, busy, confirmDialog, KeyRing,
} from './ui.js';

// The contract's table, in one place.
const mayRead = ['CLIENT_OWNER', 'AGENCY_ADMIN', 'SYSTEM_ADMIN']; // cards, autoTopUps, lowBalanceAlerts
const mayCharge = ['CLIENT_OWNER', 'SYSTEM_ADMIN']; // addCard, removeCard, setAutoTopUp, buyCredits(cardId)
const mayAlert = ['CLIENT_OWNER', 'AGENCY_ADMIN', 'SYSTEM_ADMIN']; // setLowBalanceAlert

const CARD = 'id brand last4 expMonth expYear createdAt';
const RULE = `id currency enabled status threshold mode amount monthlyCap spentThisMonth consecutiveFailures
  retryAfter pausedAt pauseReason lastFailure { reason at } lastTopUpAt updatedAt card { ${CARD} }`;
const ALERT = 'id currency enabled threshold email state lowSince lastSentAt recoveredAt';

const Q = {
  load: `query PaymentSettings {
    viewer { account { id canBuyCredits { available reason } } }
    balance { currency available updatedAt }
    cards { ${CARD} }
    autoTopUps { ${RULE} }
    lowBalanceAlerts { ${ALERT} }
  }`,
  startSetup: `mutation StartCardSetup { startCardSetup(input: {}) { provider clientSecret } }`,
  addCard: `mutation AddCard($input: AddCardInput!) { addCard(input: $input) { card { ${CARD} } } }`,
  removeCard: `mutation RemoveCard($input: RemoveCardInput!) { removeCard(input: $input) { removedCardId } }`,
  topUp: `mutation TopUp($input: BuyCreditsInput!) {
    buyCredits(input: $input) {
      status
      transaction { amount currency }
      payment { status }
      balance { currency available updatedAt }
    }
  }`,
  setAuto: `mutation SetAutoTopUp($input: SetAutoTopUpInput!) { setAutoTopUp(input: $input) { autoTopUp { ${RULE} } } }`,
  setAlert: `mutation SetAlert($input: SetLowBalanceAlertInput!) { setLowBalanceAlert(input: $input) { alert { ${ALERT} } } }`,
};

let api = null;
let ctx = null; // { role, currency, onBalance }
let st = null; // what the last load said
let pollTimer = 0;
let stripe = null; // { stripe, card } when Stripe.js is in use

// ------------------------------------------------------------ start, load

// startSettings shows the section for a viewer whose role may read it and
// loads it. viewer is the portal's Viewer (role, agency.defaultCurrency);
// onBalance(balance) hands a moved balance to the portal's widget.
export async function startSettings(a, viewer, { onBalance }) {
  api = a;
  ctx = { role: viewer.role, currency: viewer.agency.defaultCurrency, onBalance };
  st = null;
  for (const f of document.querySelectorAll('#settings form')) { f.reset(); delete f.dataset.filled; }
  replace($('#topup-result'));
  const section = $('#settings');
  section.hidden = !mayRead.includes(ctx.role);
  if (section.hidden) return () => {};
  replace($('#settings-currency'), `Settings for ${ctx.currency}`);
  await load();
  return () => { clearTimeout(pollTimer); pollTimer = 0; api = null; };
}

// refreshSettings re-reads everything (after a reconnect, when the tab
// comes back, after the balance moved).
export async function refreshSettings() {
  if (!api || !ctx || !mayRead.includes(ctx.role)) return;
  await load();
}

async function load() {
  const d = await api.request(Q.load);
  st = {
    canBuy: d.viewer.account ? d.viewer.account.canBuyCredits : { available: false, reason: 'ROLE_NOT_ALLOWED' },
    balance: d.balance,
    cards: d.cards,
    rule: d.autoTopUps.find((r) => r.currency === ctx.currency) || null,
    alert: d.lowBalanceAlerts.find((r) => r.currency === ctx.currency) || null,
  };
  render();
  schedulePoll();
}

// A top-up or an alert that is due runs in a job worker, not in the
// request: while one is due, read the settings again every second or two
// (for half a minute at most), so the outcome (credited, declined, emailed)
// shows without a reload.
let pollsLeft = 0;
function schedulePoll(restart = false) {
  if (restart) pollsLeft = 20;
  clearTimeout(pollTimer);
  pollTimer = 0;
  if (!st || !dueWork() || pollsLeft <= 0) return;
  pollsLeft--;
  pollTimer = setTimeout(() => { if (api) load().catch(() => {}); }, 1500);
}

function dueWork() {
  const bal = st.balance && st.balance.currency === ctx.currency ? st.balance.available : null;
  if (bal === null) return false;
  const r = st.rule;
  const a = st.alert;
  return (r && r.enabled && r.status === 'ACTIVE' && cmpDecimal(bal, r.threshold) < 0)
    || (a && a.enabled && a.state !== 'LOW' && cmpDecimal(bal, a.threshold) < 0);
}

// cmpDecimal compares two non-negative decimal strings without turning
// them into floating-point numbers.
export function cmpDecimal(a, b) {
  const [ai, af = ''] = String(a).replace(/^0+(?=\d)/, '').split('.');
  const [bi, bf = ''] = String(b).replace(/^0+(?=\d)/, '').split('.');
  if (ai.length !== bi.length) return ai.length < bi.length ? -1 : 1;
  const n = Math.max(af.length, bf.length);
  const x = ai + af.padEnd(n, '0');
  const y = bi + bf.padEnd(n, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}

// ------------------------------------------------------------ render

const canCharge = () => mayCharge.includes(ctx.role);
const canAlert = () => mayAlert.includes(ctx.role);

export function cardName(c) {
  if (!c) return 'a removed card';
  const brand = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express' }[c.brand] || c.brand;
  return `${brand} ending ${c.last4}`;
}

function render() {
  const ro = $('#settings-readonly');
  ro.hidden = canCharge();
  replace(ro, canCharge() ? '' : 'Cards and auto top-up are set by the account owner; you can read them here'
    + (canAlert() ? ' and set the low-balance alert.' : '.'));
  renderCards();
  renderTopUp();
  renderAuto();
  renderAlert();
}

function renderCards() {
  const items = st.cards.map((c) => el('li', { dataset: { card: c.id, last4: c.last4 } },
    el('span', { class: 'card-name' }, cardName(c)),
    el('span', { class: 'hint' }, `expires ${String(c.expMonth).padStart(2, '0')}/${c.expYear}`),
    st.rule && st.rule.card && st.rule.card.id === c.id ? badge('Auto top-up', 'in') : null,
    canCharge() ? el('button', { type: 'button', class: 'small danger', 'aria-label': `Remove ${cardName(c)}`, onclick: (ev) => removeCard(c, ev.currentTarget) }, 'Remove') : null));
  replace($('#card-list'), items.length ? items : el('li', { class: 'empty' }, 'No saved cards yet.'));
  $('#card-form').hidden = !canCharge();
  for (const sel of document.querySelectorAll('#settings select.card-select')) {
    const was = sel.value;
    replace(sel, st.cards.length ? st.cards.map((c) => el('option', { value: c.id }, cardName(c)))
      : el('option', { value: '' }, 'Add a card first'));
    if (st.cards.some((c) => c.id === was)) sel.value = was;
  }
}

const cannotBuy = {
  ROLE_NOT_ALLOWED: 'Only the account owner can top up with a saved card.',
  CREDIT_PAYMENTS_DISABLED: 'Your agency has turned credit payments off: buying credits is unavailable for now. Auto top-up still runs.',
};

function renderTopUp() {
  const can = st.canBuy.available && canCharge();
  const note = $('#topup-unavailable');
  note.hidden = can;
  replace(note, can ? '' : (cannotBuy[st.canBuy.reason] || cannotBuy.ROLE_NOT_ALLOWED));
  $('#topup-form').hidden = !can;
  $('#topup-submit').disabled = !st.cards.length;
}

const statusText = {
  ACTIVE: 'On',
  BACKING_OFF: 'Card declined: retrying later',
  PAUSED: 'Paused',
  DISABLED: 'Off',
};

// failureText is a provider's decline in plain words:
// "card_declined: Your card was declined." -> "Your card was declined."
export function failureText(reason) {
  const s = String(reason || '').replace(/^[a-z_]+:\s*/, '').trim();
  return s || 'The charge was declined.';
}

function renderAuto() {
  const r = st.rule;
  const box = $('#auto-status');
  if (!r) {
    replace(box, el('p', { class: 'hint' }, canCharge()
      ? 'No auto top-up yet: set one below and credits are bought with your card when the balance runs low.'
      : 'No auto top-up is set.'));
  } else {
    const c = r.currency;
    const what = r.mode === 'TOP_UP_TO'
      ? `tops up to ${money(r.amount, c)}` : `buys ${money(r.amount, c)}`;
    replace(box,
      el('p', {}, badge(statusText[r.status] || r.status, r.status.toLowerCase().replace('_', '-')), ' ',
        el('span', { dataset: { status: r.status } }, r.enabled
          ? `When the balance falls below ${money(r.threshold, c)}, ${what} with ${cardName(r.card)}.`
          : 'Auto top-up is turned off.')),
      el('p', { class: 'hint' }, `This month: ${money(r.spentThisMonth, c)}`,
        r.monthlyCap ? ` of ${money(r.monthlyCap, c)}` : ' (no monthly limit)',
        r.lastTopUpAt ? [' · last top-up ', timeEl(r.lastTopUpAt, true)] : null),
      r.lastFailure ? el('p', { class: 'failure', id: 'auto-last-failure' },
        el('strong', {}, 'Last failure: '), failureText(r.lastFailure.reason), ' (', timeEl(r.lastFailure.at, true), ')') : null,
      r.status === 'BACKING_OFF' && r.retryAfter ? el('p', { id: 'auto-retry', dataset: { retryAfter: r.retryAfter } },
        'Next try: ', timeEl(r.retryAfter, true), '. Saving the rule again (for example with another card) tries at once.') : null,
      r.status === 'PAUSED' ? el('p', { id: 'auto-paused' },
        r.pauseReason ? `Paused: ${failureText(r.pauseReason)} ` : 'Paused. ', 'Save the rule again to resume.') : null);
  }
  const f = $('#auto-form');
  for (const x of f.querySelectorAll('input, select, button')) x.disabled = !canCharge();
  f.hidden = !canCharge();
  if (r && !f.dataset.filled) {
    // Fill the form from the saved rule once; later reloads keep what is typed.
    f.dataset.filled = '1';
    f.elements.enabled.checked = r.enabled;
    f.elements.threshold.value = r.threshold;
    f.elements.amount.value = r.amount;
    f.elements.monthlyCap.value = r.monthlyCap || '';
    for (const m of f.querySelectorAll('input[name=mode]')) m.checked = m.value === r.mode;
    if (r.card && st.cards.some((c) => c.id === r.card.id)) f.elements.cardId.value = r.card.id;
  }
  if (canCharge()) $('#auto-submit').disabled = !st.cards.length;
}

const alertStates = {
  OK: ['Balance above the threshold', 'paid'],
  LOW: ['Balance low: e-mailed', 'pending'],
  RECOVERED: ['Recovered', 'paid'],
};

function renderAlert() {
  const a = st.alert;
  const box = $('#alert-status');
  if (!a) {
    replace(box, el('p', { class: 'hint' }, 'No alert yet.'));
  } else {
    const [text, kind] = alertStates[a.state] || [a.state, ''];
    replace(box,
      el('p', {}, el('span', { id: 'alert-state', dataset: { state: a.state } }, a.enabled ? badge(text, kind) : badge('Off', 'off')), ' ',
        a.enabled ? `E-mails ${a.email} when the balance falls below ${money(a.threshold, a.currency)}, then at most once a day while it stays low.` : 'The alert is turned off.'),
      a.lastSentAt ? el('p', { class: 'hint' }, 'Last e-mail ', timeEl(a.lastSentAt, true)) : null);
  }
  const f = $('#alert-form');
  f.hidden = !canAlert();
  if (a && !f.dataset.filled) {
    f.dataset.filled = '1';
    f.elements.enabled.checked = a.enabled;
    f.elements.threshold.value = a.threshold;
    f.elements.email.value = a.email;
  }
}

// ------------------------------------------------------------ cards

async function addCard(ev) {
  ev.preventDefault();
  const errBox = $('#card-error');
  showError(errBox, null);
  try {
    let pm;
    if (stripe) {
      const setup = (await busy($('#card-submit'), api.request(Q.startSetup))).startCardSetup;
      const res = await busy($('#card-submit'), stripe.stripe.confirmCardSetup(setup.clientSecret, { payment_method: { card: stripe.card } }));
      if (res.error) throw Object.assign(new Error(res.error.message), { code: 'BAD_USER_INPUT' });
      pm = res.setupIntent.payment_method;
    } else {
      pm = $('#card-test').value;
    }
    const c = (await busy($('#card-submit'), api.request(Q.addCard, { input: { paymentMethodId: pm } }))).addCard.card;
    st.cards = [...st.cards.filter((x) => x.id !== c.id), c];
    renderCards();
    renderTopUp();
    renderAuto();
    if (stripe) stripe.card.clear();
    toast(`${cardName(c)} is saved.`);
  } catch (err) {
    showError(errBox, err);
  }
}

async function removeCard(c, button) {
  const usedByRule = st.rule && st.rule.enabled && st.rule.card && st.rule.card.id === c.id;
  const ok = await confirmDialog({
    title: `Remove ${cardName(c)}?`,
    text: usedByRule
      ? 'Auto top-up uses this card: it pauses until you choose another card. Nothing is charged.'
      : 'It is no longer offered for top-ups. Nothing is charged.',
    confirm: 'Remove card',
    danger: true,
  });
  if (!ok) return;
  const errBox = $('#card-error');
  showError(errBox, null);
  try {
    await busy(button, api.request(Q.removeCard, { input: { cardId: c.id } }));
    toast(`${cardName(c)} is removed.`);
  } catch (err) {
    showError(errBox, err);
  }
  await load();
}

// Stripe.js, where a publishable key is configured (data-stripe-key on
// <body>): the card number is typed into Stripe's own frame and never
// reaches this page or the gateway.
function loadStripe(key) {
  return new Promise((resolve, reject) => {
    if (window.Stripe) { resolve(window.Stripe); return; }
    const s = el('script', { src: 'https://js.stripe.com/v3/' });
    s.addEventListener('load', () => resolve(window.Stripe));
    s.addEventListener('error', () => reject(new Error('Stripe.js could not be loaded')));
    document.head.append(s);
  }).then((Stripe) => {
    const st2 = Stripe(key);
    const card = st2.elements().create('card');
    card.mount('#card-element');
    stripe = { stripe: st2, card };
    $('#card-test-field').hidden = true;
    $('#card-stripe-field').hidden = false;
  });
}

// ------------------------------------------------------------ one-time top-up

const amountRE = /^\d+(\.\d+)?$/;
const positive = (s) => amountRE.test(s) && !/^0*(\.0*)?$/.test(s);
const topUpKeys = new KeyRing('topup');

async function topUp(ev) {
  ev.preventDefault();
  const f = ev.currentTarget;
  const errBox = $('#topup-error');
  const out = $('#topup-result');
  showError(errBox, null);
  replace(out);
  const amount = f.elements.amount.value.trim();
  if (!positive(amount)) {
    showError(errBox, { code: 'BAD_USER_INPUT', message: 'Enter an amount greater than zero, such as 50 or 50.00' });
    f.elements.amount.focus();
    return;
  }
  const cardId = f.elements.cardId.value;
  const c = st.cards.find((x) => x.id === cardId);
  const input = { amount, currency: ctx.currency, method: 'CARD', cardId };
  input.idempotencyKey = topUpKeys.for(input);
  let res;
  try {
    res = (await busy($('#topup-submit'), api.request(Q.topUp, { input }))).buyCredits;
  } catch (err) {
    if (err.code !== 'NETWORK') topUpKeys.done();
    showError(errBox, err);
    return;
  }
  topUpKeys.done();
  if (res.balance) ctx.onBalance(res.balance);
  switch (res.status) {
    case 'COMPLETED':
      replace(out, el('p', { class: 'result ok', dataset: { status: 'COMPLETED' } }, badge('Completed', 'paid'), ' ',
        `${money(res.transaction.amount, res.transaction.currency)} added with ${cardName(c)}. Balance: ${money(res.balance.available, res.balance.currency)}.`));
      f.elements.amount.value = '';
      break;
    case 'FAILED':
      replace(out, el('p', { class: 'result failed', dataset: { status: 'FAILED' } }, badge('Failed', 'rejected'), ' ',
        `${cardName(c)} was declined by the card issuer: nothing was charged or credited. Try another card, or add one.`));
      break;
    case 'REQUIRES_ACTION':
      replace(out, el('p', { class: 'result', dataset: { status: res.status } }, badge('Waiting', 'pending'), ' ',
        'The card issuer asks for a confirmation; the credits appear as soon as the payment is confirmed.'));
      break;
    default:
      replace(out, el('p', { class: 'result', dataset: { status: res.status } }, badge(res.status, 'pending')));
  }
  await load();
}

// ------------------------------------------------------------ auto top-up

async function saveAuto(ev) {
  ev.preventDefault();
  const f = ev.currentTarget;
  const errBox = $('#auto-error');
  showError(errBox, null);
  const threshold = f.elements.threshold.value.trim();
  const amount = f.elements.amount.value.trim();
  const cap = f.elements.monthlyCap.value.trim();
  const bad = !positive(threshold) ? ['threshold', 'Enter the balance below which to top up, such as 25']
    : !positive(amount) ? ['amount', 'Enter the amount, such as 100']
      : cap && !positive(cap) ? ['monthlyCap', 'Enter a monthly limit greater than zero, or leave it empty']
        : !f.elements.cardId.value ? ['cardId', 'Add a card first'] : null;
  if (bad) {
    showError(errBox, { code: 'BAD_USER_INPUT', message: bad[1] });
    f.elements[bad[0]].focus();
    return;
  }
  const input = {
    currency: ctx.currency,
    enabled: f.elements.enabled.checked,
    threshold,
    mode: f.querySelector('input[name=mode]:checked').value,
    amount,
    cardId: f.elements.cardId.value,
    monthlyCap: cap || null,
  };
  try {
    const r = (await busy($('#auto-submit'), api.request(Q.setAuto, { input }))).setAutoTopUp.autoTopUp;
    st.rule = r;
    renderAuto();
    renderCards();
    toast(r.enabled ? `Auto top-up saved: ${statusText[r.status] || r.status}.` : 'Auto top-up turned off.');
  } catch (err) {
    showError(errBox, err);
    return;
  }
  await load();
  schedulePoll(true);
}

// ------------------------------------------------------------ low-balance alert

async function saveAlert(ev) {
  ev.preventDefault();
  const f = ev.currentTarget;
  const errBox = $('#alert-error');
  showError(errBox, null);
  const threshold = f.elements.threshold.value.trim();
  const email = f.elements.email.value.trim();
  if (!positive(threshold)) {
    showError(errBox, { code: 'BAD_USER_INPUT', message: 'Enter the balance below which to e-mail you, such as 15' });
    f.elements.threshold.focus();
    return;
  }
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
    showError(errBox, { code: 'BAD_USER_INPUT', message: 'Enter the e-mail address to write to' });
    f.elements.email.focus();
    return;
  }
  const input = { currency: ctx.currency, enabled: f.elements.enabled.checked, threshold, email };
  try {
    st.alert = (await busy($('#alert-submit'), api.request(Q.setAlert, { input }))).setLowBalanceAlert.alert;
    renderAlert();
    toast(st.alert.enabled ? 'Low-balance alert saved.' : 'Low-balance alert turned off.');
  } catch (err) {
    showError(errBox, err);
    return;
  }
  await load();
  schedulePoll(true);
}

// ------------------------------------------------------------ wiring (once)

$('#card-form').addEventListener('submit', addCard);
$('#topup-form').addEventListener('submit', topUp);
$('#auto-form').addEventListener('submit', saveAuto);
$('#alert-form').addEventListener('submit', saveAlert);
if (document.body.dataset.stripeKey) {
  loadStripe(document.body.dataset.stripeKey).catch((err) => showError($('#card-error'), err));
}
