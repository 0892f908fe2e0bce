// What the portal and the dashboard share: start-up, sign-in and sign-out,
// the live-connection indicator, the "who am I" line.

import { createApi } from './api.js';
import * as session from './session.js';
import { $, alertError, replace } from './ui.js';

const roleLabels = {
  CLIENT: 'Client user',
  CLIENT_OWNER: 'Client owner',
  AGENCY_ADMIN: 'Agency admin',
  SYSTEM_ADMIN: 'System admin',
};

export function roleLabel(role) {
  return roleLabels[role] || role;
}

const liveText = {
  connecting: 'Connecting…',
  live: 'Live',
  offline: 'Offline: updates paused',
};

// boot runs a page. start(api) loads and renders the page for a signed-in
// viewer and returns a stop() function; it may throw (an ApiError) to send
// the user back to the sign-in card with the error shown. onRefresh()
// re-reads everything (after a reconnect, or when the tab becomes visible).
export function boot({ preferRole, start, onRefresh }) {
  let api = null;
  let stop = null;
  let lost = false;

  function signOut(err) {
    if (stop) stop();
    stop = null;
    if (api) api.close();
    api = null;
    session.forget();
    $('#app').hidden = true;
    $('#sign-out').hidden = true;
    $('#live-status').hidden = true;
    replace($('#who'));
    replace($('#balance-widgets'));
    replace($('#alerts'));
    session.showSignIn({ err, preferRole, onToken: run });
  }

  async function run() {
    lost = false;
    session.hideSignIn();
    api = createApi({
      endpoint: document.body.dataset.graphql || '/graphql',
      getToken: session.currentToken,
      onAuthLost: (err) => {
        // Once: every request in flight fails the same way.
        if (lost) return;
        lost = true;
        signOut(err);
      },
      onLive: (state) => {
        const s = $('#live-status');
        s.hidden = false;
        s.dataset.state = state;
        s.textContent = liveText[state] || state;
      },
      onReconnect: () => onRefresh(),
    });
    try {
      stop = await start(api);
    } catch (err) {
      if (!lost) signOut(err);
      return;
    }
    $('#sign-out').hidden = false;
    $('#app').hidden = false;
  }

  $('#sign-out').addEventListener('click', () => signOut(null));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && api && stop) onRefresh();
  });
  session.listenToEmbedder(
    () => {
      if (stop) stop();
      stop = null;
      if (api) api.close();
      run();
    },
    () => signOut(null),
  );
  window.addEventListener('unhandledrejection', (ev) => alertError(ev.reason));

  if (session.initialToken()) run();
  else session.showSignIn({ preferRole, onToken: run });
}

export function showWho(viewer, scope) {
  replace($('#who'), `${viewer.userId} · ${roleLabel(viewer.role)}`);
  if (scope) replace($('#scope-name'), scope);
}

// debounce(fn, ms) calls fn once, ms after the last call.
export function debounce(fn, ms) {
  let t = 0;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

// guard runs an async loader and shows its failure on the page instead of
// losing it.
export async function guard(promise) {
  try {
    return await promise;
  } catch (err) {
    if (err && err.code === 'UNAUTHENTICATED') return undefined; // back to sign-in already
    alertError(err);
    return undefined;
  }
}
