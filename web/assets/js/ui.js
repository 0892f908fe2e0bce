// Small DOM and formatting helpers shared by the portal and the dashboard.
// Everything is built with createElement and textContent: no innerHTML, so
// nothing the API returns is ever parsed as markup.

// el('button', {class: 'primary', onclick: fn}, 'Pay') builds an element.
// Attributes starting with "on" become listeners; `dataset` sets data-*;
// null, undefined and false attributes are left out; children may be
// strings, nodes, arrays or null.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace empties node and fills it with children.
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);

// rerender replaces container's children with children but keeps what the
// user is doing there: the values typed into fields and the focus (matched
// by element id), so a live refresh never eats a half-typed quantity.
export function rerender(container, ...children) {
  const values = new Map();
  for (const f of container.querySelectorAll('input[id], textarea[id], select[id]')) values.set(f.id, f.value);
  const active = document.activeElement;
  const focusId = active && active.id && container.contains(active) ? active.id : null;
  replace(container, ...children);
  for (const [id, v] of values) {
    const f = document.getElementById(id);
    if (f && container.contains(f)) f.value = v;
  }
  if (focusId) {
    const f = document.getElementById(focusId);
    if (f && container.contains(f)) f.focus();
  }
}

// ------------------------------------------------------------ formatting

// money("1234.50", "USD") is "1,234.50 USD". Amounts are decimal strings
// from the API; they are never turned into floating-point numbers.
export function money(amount, currency) {
  const [int, frac] = String(amount).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${grouped}${frac !== undefined ? '.' + frac : ''} ${currency}`;
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFmt.format(d);
}

const shortFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });

// timeEl is a <time> element; short leaves out the year (the full date is
// its tooltip).
export function timeEl(iso, short = false) {
  if (!short || !iso) return el('time', { datetime: iso }, when(iso));
  return el('time', { datetime: iso, title: when(iso) }, shortFmt.format(new Date(iso)));
}

export const kindLabels = {
  PURCHASE: 'Purchase',
  REQUEST_APPROVED: 'Approved request',
  ALLOCATION: 'Allocation',
  SERVICE_PURCHASE: 'Service purchase',
  INVOICE_PAYMENT: 'Invoice payment',
  AUTO_TOPUP: 'Auto top-up',
  REFUND: 'Refund',
  ADJUSTMENT: 'Adjustment',
  SETTLEMENT: 'Settlement',
  USAGE: 'Usage',
  REVERSAL: 'Reversal',
};

export const methodLabels = {
  CARD: 'Card',
  PAYPAL: 'PayPal',
  BANK_TRANSFER: 'Bank transfer',
  CRYPTO: 'Crypto',
  POSTPAID: 'Post-paid request',
  ONLINE: 'Online payment',
};

export function label(map, value) {
  return map[value] || String(value).toLowerCase().replaceAll('_', ' ');
}

export function badge(text, kind) {
  return el('span', { class: `badge ${kind || String(text).toLowerCase()}` }, text);
}

export const statusLabels = { PENDING: 'Pending', ACCEPTED: 'Accepted', REJECTED: 'Rejected', OPEN: 'Open', OVERDUE: 'Overdue', PAID: 'Paid', VOID: 'Void' };

// ------------------------------------------------------------ errors in plain words

const headlines = {
  NETWORK: 'The server could not be reached. Check your connection and try again.',
  UNAUTHENTICATED: 'Your session is not valid any more (it expired or the token was refused). Please sign in again.',
  FORBIDDEN: 'Your role does not allow this action.',
  NOT_FOUND: 'That item does not exist, or is not yours to see.',
  BAD_USER_INPUT: 'Some of what was entered is not valid.',
  INSUFFICIENT_CREDITS: 'Your credit balance does not cover this amount.',
  CREDIT_PAYMENTS_DISABLED: 'Credit payments are turned off by the agency.',
  NOT_ELIGIBLE: 'This cannot be paid with credits.',
  ALREADY_PAID: 'This invoice is already paid.',
  CONFLICT: 'This was already done, or something changed in the meantime. The list has been refreshed.',
  RATE_LIMITED: 'Too many requests in a short time.',
  INTERNAL: 'Something went wrong on the server.',
  HTTP: 'The server gave an unexpected answer.',
  LIVE: 'Live updates stopped.',
};

// explain turns any error (an ApiError from api.js or anything else) into a
// headline in plain words and the server's own message as the detail.
export function explain(err) {
  const code = err && err.code;
  let headline = headlines[code] || 'Something went wrong.';
  if (code === 'RATE_LIMITED' && err.retryAfter) {
    headline += ` Try again in ${Math.ceil(Number(err.retryAfter))} seconds.`;
  }
  let detail = (err && err.message) || String(err);
  if (detail && !/[.!?]$/.test(detail)) detail += '.';
  detail = detail.charAt(0).toUpperCase() + detail.slice(1);
  return { headline, detail: detail === headline ? '' : detail, code };
}

// errorBox renders an error as a dismissible message block.
export function errorBox(err, { onDismiss } = {}) {
  const { headline, detail, code } = explain(err);
  const box = el('div', { class: 'message', dataset: { code: code || 'UNKNOWN' } },
    el('div', {}, el('strong', {}, headline), detail ? el('span', { class: 'detail' }, detail) : null),
    onDismiss ? el('button', { type: 'button', class: 'small', onclick: onDismiss, 'aria-label': 'Dismiss this message' }, 'Dismiss') : null,
  );
  return box;
}

// showError puts err in container (a role="alert" element), replacing what
// was there. A falsy err clears it.
export function showError(container, err) {
  if (!err) { replace(container); return; }
  replace(container, errorBox(err, { onDismiss: () => replace(container) }));
}

// A page-wide alert area (errors that belong to no form) and a toast for
// successes, both announced by screen readers.
export function alertError(err) {
  const area = $('#alerts');
  if (!area) { console.error(err); return; }
  // The same message twice in a row is shown once.
  const { headline, detail } = explain(err);
  for (const m of area.querySelectorAll('.message')) {
    if (m.textContent.startsWith(headline + detail)) return;
  }
  const box = errorBox(err, { onDismiss: () => box.remove() });
  area.append(box);
}

let toastTimer = 0;
export function toast(text) {
  const t = $('#toast');
  if (!t) return;
  replace(t, text);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => replace(t), 6000);
}

// busy disables a button while promise runs and restores it after.
export async function busy(button, promise) {
  const was = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await promise;
  } finally {
    button.disabled = was;
    button.removeAttribute('aria-busy');
  }
}

// confirmDialog asks a yes/no question in a modal <dialog> (focus is moved
// into it and returned afterwards; Escape cancels). With a `reason` field
// it asks for text too and resolves to it; otherwise to true. Cancel: null.
export function confirmDialog({ title, text, confirm = 'Confirm', reason = null, danger = false }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const input = reason ? el('textarea', { id: 'dialog-reason', name: 'reason', required: true, maxlength: 1000, style: 'font-family:inherit' }) : null;
    const error = el('p', { class: 'form-error', role: 'alert' });
    const form = el('form', { method: 'dialog' },
      el('h2', { id: 'dialog-title' }, title),
      text ? el('p', {}, text) : null,
      input ? el('div', { class: 'field' }, el('label', { for: 'dialog-reason' }, reason), input) : null,
      error,
      el('div', { class: 'actions' },
        el('button', { type: 'submit', value: 'ok', class: danger ? 'primary danger-fill' : 'primary' }, confirm),
        el('button', { type: 'button', value: 'cancel', onclick: () => dlg.close('cancel') }, 'Cancel'),
      ),
    );
    const dlg = el('dialog', { 'aria-labelledby': 'dialog-title' }, form);
    form.addEventListener('submit', (ev) => {
      if (input && !input.value.trim()) {
        ev.preventDefault();
        replace(error, 'Please give a reason.');
        input.focus();
      }
    });
    dlg.addEventListener('close', () => {
      const ok = dlg.returnValue === 'ok';
      dlg.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(ok ? (input ? input.value.trim() : true) : null);
    });
    document.body.append(dlg);
    dlg.showModal();
    (input || form.querySelector('button[type=submit]')).focus();
  });
}

// newKey returns a fresh idempotency key.
export function newKey(prefix) {
  const r = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
  return `${prefix}-${r}`;
}

// Retry-safe idempotency keys: the same action with the same input reuses
// its key until it succeeds, so pressing the button again after a lost
// answer cannot charge twice; a different input gets a new key.
export class KeyRing {
  constructor(prefix) { this.prefix = prefix; this.sig = null; this.key = null; }
  for(input) {
    const sig = JSON.stringify(input);
    if (sig !== this.sig) { this.sig = sig; this.key = newKey(this.prefix); }
    return this.key;
  }
  done() { this.sig = null; this.key = null; }
}
