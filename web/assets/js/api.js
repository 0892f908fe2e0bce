// The GraphQL client: exactly what any third-party single-page app would
// do. Queries and mutations are POST /graphql with the bearer token;
// subscriptions go over one WebSocket (graphql-transport-ws, via the
// graphql-ws client) with the token in the connection_init payload.

import { createClient } from '../vendor/graphql-ws.js';

// ApiError carries the contract's extensions.code (or NETWORK, HTTP, LIVE
// for failures that never reached GraphQL) and the server's message.
export class ApiError extends Error {
  constructor(code, message, extra = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    Object.assign(this, extra);
  }
}

// Close codes after which reconnecting with the same token is pointless.
const AUTH_CLOSE_CODES = [4401, 4403];

// createApi returns {request, subscribe, close} bound to endpoint.
//   getToken()          the current bearer token
//   onAuthLost(err)     the token was refused (over HTTP or WebSocket)
//   onLive(state)       'connecting' | 'live' | 'offline'
//   onReconnect()       the socket came back after a drop: events may have
//                       been missed, so re-read what is on screen
export function createApi({ endpoint = '/graphql', getToken, onAuthLost = () => {}, onLive = () => {}, onReconnect = () => {} }) {
  async function request(query, variables = {}) {
    let res;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/graphql-response+json, application/json',
          Authorization: `Bearer ${getToken()}`,
        },
        body: JSON.stringify({ query, variables }),
      });
    } catch (e) {
      throw new ApiError('NETWORK', `The request did not reach the server (${e.message})`);
    }
    let body = null;
    try {
      body = await res.json();
    } catch {
      // not JSON: handled below
    }
    const first = body && Array.isArray(body.errors) ? body.errors[0] : null;
    if (first) {
      const ext = first.extensions || {};
      const code = ext.code || (res.status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL');
      const err = new ApiError(code, first.message, { retryAfter: ext.retryAfter, status: res.status });
      if (code === 'UNAUTHENTICATED') onAuthLost(err);
      throw err;
    }
    if (!res.ok || !body || !body.data) {
      throw new ApiError('HTTP', `The server answered ${res.status} ${res.statusText}`.trim(), { status: res.status });
    }
    return body.data;
  }

  let client = null;
  let everConnected = false;

  function live() {
    if (client) return client;
    const url = new URL(endpoint, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    client = createClient({
      url: url.href,
      // Called at every (re)connection, so a refreshed token is used.
      connectionParams: () => ({ Authorization: `Bearer ${getToken()}` }),
      retryAttempts: 30,
      shouldRetry: (e) => !(e && AUTH_CLOSE_CODES.includes(e.code)),
      on: {
        connecting: () => onLive('connecting'),
        connected: () => {
          onLive('live');
          if (everConnected) onReconnect();
          everConnected = true;
        },
        closed: (e) => {
          onLive('offline');
          if (e && AUTH_CLOSE_CODES.includes(e.code)) {
            onAuthLost(new ApiError('UNAUTHENTICATED', `The live connection was refused (${e.reason || 'close code ' + e.code})`));
          }
        },
      },
    });
    return client;
  }

  // subscribe runs a subscription; next(data) gets each event's data and
  // error(ApiError) a failure. It returns a function that ends it.
  function subscribe(query, variables, { next, error }) {
    return live().subscribe({ query, variables }, {
      next: (msg) => {
        if (msg.errors && msg.errors.length) {
          const e = msg.errors[0];
          error(new ApiError((e.extensions && e.extensions.code) || 'LIVE', e.message));
          return;
        }
        next(msg.data);
      },
      error: (e) => {
        if (Array.isArray(e) && e.length) {
          error(new ApiError((e[0].extensions && e[0].extensions.code) || 'LIVE', e[0].message));
        } else if (e && typeof e.code === 'number') {
          if (!AUTH_CLOSE_CODES.includes(e.code)) {
            error(new ApiError('LIVE', `The live connection closed (${e.reason || 'code ' + e.code}); reload the page to reconnect`));
          }
        } else {
          error(new ApiError('LIVE', (e && e.message) || 'The live connection failed; reload the page to reconnect'));
        }
      },
      complete: () => {},
    });
  }

  function close() {
    if (client) client.dispose();
    client = null;
    everConnected = false;
  }

  return { request, subscribe, close };
}
