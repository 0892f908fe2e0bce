// Where the bearer token comes from and where it is kept.
//
// Kept: in memory and in sessionStorage (this tab only, gone when the tab
// closes), under a key per page, so the portal and the dashboard can be
// signed in as different users. Never in a cookie or localStorage.
//
// Comes from, in this order:
//   1. the URL fragment: /portal/#token=<jwt> (removed from the address bar
//      at once; a fragment never reaches any server);
//   2. sessionStorage, after a reload;
//   3. a postMessage {type: "creditgate:token", token} from an embedding
//      application whose origin is listed in the page's data-embed-origins
//      (WEB_EMBED_ORIGINS); the page announces itself to its opener or
//      parent with {type: "creditgate:ready", page} when it loads;
//   4. the sign-in card: a demo user (development only) or a pasted token.

import { $, el, replace, errorBox } from './ui.js';

const page = document.body.dataset.page;
const KEY = `creditgate.token.${page}`;
let token = null;

export function currentToken() {
  return token;
}

export function store(t) {
  token = t;
  try {
    sessionStorage.setItem(KEY, t);
  } catch {
    // storage disabled: memory only
  }
}

export function forget() {
  token = null;
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}

// initialToken takes a token from the URL fragment or sessionStorage.
export function initialToken() {
  const frag = new URLSearchParams(location.hash.slice(1));
  const t = frag.get('token');
  if (t) {
    history.replaceState(null, '', location.pathname + location.search);
    store(t);
    return t;
  }
  try {
    token = sessionStorage.getItem(KEY);
  } catch {
    token = null;
  }
  return token;
}

// listenToEmbedder accepts tokens (and sign-outs) posted by the embedding
// application, from the listed origins only.
export function listenToEmbedder(onToken, onSignOut) {
  const origins = (document.body.dataset.embedOrigins || '').split(/\s+/).filter(Boolean);
  if (!origins.length) return;
  window.addEventListener('message', (ev) => {
    if (!origins.includes(ev.origin)) return;
    const d = ev.data;
    if (!d || typeof d !== 'object') return;
    if (d.type === 'creditgate:token' && typeof d.token === 'string' && d.token) {
      store(d.token);
      onToken(d.token);
    } else if (d.type === 'creditgate:signout') {
      forget();
      onSignOut();
    }
  });
  const host = window.opener || (window.parent !== window ? window.parent : null);
  if (host) {
    // postMessage to an origin the host does not have is dropped silently.
    for (const o of origins) host.postMessage({ type: 'creditgate:ready', page }, o);
  }
}

// showSignIn shows the sign-in card, with err (why, if any) on top, and
// calls onToken(token) once the user picks a demo user or pastes a token.
// preferRole picks the demo user selected at first.
let signedIn = () => {};

export async function showSignIn({ err, onToken, preferRole }) {
  signedIn = onToken;
  const card = $('#signin');
  card.hidden = false;
  replace($('#signin-error'), err ? errorBox(err) : null);

  const demoForm = $('#demo-form');
  if (demoForm && !demoForm.dataset.ready) {
    demoForm.dataset.ready = '1';
    const select = $('#demo-user');
    try {
      const res = await fetch('/web/demo-users.json', { cache: 'no-store' });
      if (!res.ok) throw new Error(`the demo users are not available (${res.status})`);
      const users = await res.json();
      const preferred = users.find((u) => u.role === preferRole);
      for (const u of users) {
        select.append(el('option', { value: u.token, selected: u === preferred }, u.who));
      }
      $('#demo-note').textContent = page === 'portal'
        ? 'The portal is for client users; the agency admin belongs on the dashboard.'
        : 'The dashboard is for agency staff; client users belong on the portal.';
    } catch (e) {
      replace($('#signin-error'), errorBox({ code: 'NETWORK', message: e.message }));
    }
    demoForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!select.value) return;
      store(select.value);
      card.hidden = true;
      signedIn(select.value);
    });
  }
  const tokenForm = $('#token-form');
  if (!tokenForm.dataset.ready) {
    tokenForm.dataset.ready = '1';
    tokenForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('#token-input').value.trim().replace(/^Bearer\s+/i, '');
      if (!t) return;
      $('#token-input').value = '';
      store(t);
      card.hidden = true;
      signedIn(t);
    });
  }
  const first = $('#demo-user') || $('#token-input');
  if (first) first.focus();
}

export function hideSignIn() {
  $('#signin').hidden = true;
}
