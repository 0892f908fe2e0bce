// The dashboard's "API keys" section: list the agency's keys, create one
// (its secret is shown once, with a copy button), revoke one after a
// confirmation. The secret lives only in the page that made it, until the
// section is left or another key is made; it is never stored.

import { $, el, replace, timeEl, badge, showError, toast, busy, confirmDialog } from './ui.js';

const KEY = 'id name prefix scopes createdAt createdBy lastUsedAt revokedAt';

const Q = {
  list: `query ApiKeys { apiKeys { ${KEY} } }`,
  create: `mutation CreateApiKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { ${KEY} } } }`,
  revoke: `mutation RevokeApiKey($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { ${KEY} } }`,
};

const scopeLabels = { USAGE_WRITE: 'Record usage', HOLDS_WRITE: 'Hold credits', BALANCES_READ: 'Read balances' };

let api = null;
let keys = [];

// startApiKeys loads the list and wires the form; it returns the cleanup.
export async function startApiKeys(a) {
  api = a;
  const form = $('#api-key-form');
  form.addEventListener('submit', create);
  try {
    await load();
  } catch (err) {
    showError($('#api-key-error'), err);
  }
  return () => {
    form.removeEventListener('submit', create);
    replace($('#api-key-secret'));
  };
}

export async function refreshApiKeys() {
  if (api) await load();
}

async function load() {
  const d = await api.request(Q.list);
  keys = d.apiKeys;
  render();
}

function render(highlight = null) {
  const rows = keys.map((k) => el('tr', { id: `key-${k.id}`, class: k.id === highlight ? 'flash' : '' },
    el('td', { 'data-label': 'Name' }, k.name),
    el('td', { 'data-label': 'Key' }, el('code', {}, `${k.prefix}_…`)),
    el('td', { 'data-label': 'Scopes' }, k.scopes.map((s) => scopeLabels[s] || s).join(', ')),
    el('td', { 'data-label': 'Created' }, timeEl(k.createdAt, true)),
    el('td', { 'data-label': 'Last used' }, k.lastUsedAt ? timeEl(k.lastUsedAt, true) : 'never'),
    el('td', { 'data-label': 'Status' }, k.revokedAt
      ? [badge('Revoked', 'rejected'), ' ', timeEl(k.revokedAt, true)]
      : el('button', { type: 'button', class: 'small danger', dataset: { revoke: k.id }, onclick: revoke }, 'Revoke')),
  ));
  replace($('#api-keys-table tbody'), ...(rows.length ? rows
    : [el('tr', {}, el('td', { colspan: 6, class: 'hint' }, 'No API keys yet.'))]));
}

async function create(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const errBox = $('#api-key-error');
  showError(errBox, null);
  replace($('#api-key-secret'));
  const name = form.elements.name.value.trim();
  const scopes = [...form.querySelectorAll('input[name=scope]:checked')].map((c) => c.value);
  if (!name) { showError(errBox, new Error('Give the key a name, e.g. the service that will use it')); return; }
  if (!scopes.length) { showError(errBox, new Error('Pick at least one scope')); return; }
  try {
    const d = await busy($('#api-key-submit'), api.request(Q.create, { input: { name, scopes } }));
    const { secret, apiKey } = d.createApiKey;
    keys = [apiKey, ...keys.filter((k) => k.id !== apiKey.id)];
    render(apiKey.id);
    form.reset();
    showSecret(apiKey, secret);
  } catch (err) {
    showError(errBox, err);
  }
}

// showSecret shows the new key's secret once, with a copy button.
function showSecret(k, secret) {
  const input = el('input', { type: 'text', id: 'api-key-secret-value', readonly: true, value: secret, 'aria-label': `Secret of ${k.name}`, spellcheck: 'false', style: 'flex:1;font-family:monospace' });
  const copy = el('button', { type: 'button', id: 'api-key-copy', class: 'small' }, 'Copy');
  copy.addEventListener('click', async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(secret);
      toast('The key is on the clipboard.');
    } catch {
      // No clipboard (insecure origin, permission): the text is selected.
      document.execCommand && document.execCommand('copy');
      toast('The key is selected: copy it with Ctrl+C.');
    }
  });
  const done = el('button', { type: 'button', class: 'small', id: 'api-key-done' }, 'Done');
  done.addEventListener('click', () => replace($('#api-key-secret')));
  replace($('#api-key-secret'), el('div', { class: 'notice secret', role: 'status' },
    el('p', {}, el('strong', {}, `Copy the key "${k.name}" now: it is shown only this once.`),
      ' It is not stored; if you lose it, revoke it and create another.'),
    el('div', { class: 'field', style: 'display:flex;gap:0.5rem;align-items:center' }, input, copy, done)));
  input.focus();
  input.select();
}

async function revoke(ev) {
  const btn = ev.currentTarget;
  const k = keys.find((x) => x.id === btn.dataset.revoke);
  if (!k) return;
  const ok = await confirmDialog({
    title: `Revoke the key "${k.name}"?`,
    text: `Services using ${k.prefix}_… are refused within a second, on every gateway. This cannot be undone.`,
    confirm: 'Revoke key', danger: true,
  });
  if (!ok) return;
  const errBox = $('#api-key-error');
  showError(errBox, null);
  try {
    const d = await busy(btn, api.request(Q.revoke, { input: { apiKeyId: k.id } }));
    keys = keys.map((x) => (x.id === k.id ? d.revokeApiKey : x));
    render(k.id);
    toast(`The key "${k.name}" is revoked.`);
  } catch (err) {
    showError(errBox, err);
  }
}
