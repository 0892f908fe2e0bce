/*
 * Boots GraphiQL for the gateway. Hand-written (not from npm): it reads its
 * settings from the #graphiql element's data attributes, so the page needs
 * no inline script and works under a script-src 'self' policy.
 */
(function () {
  'use strict';

  // Shown in the Headers tab. It has to be valid JSON: GraphiQL parses the
  // headers editor with JSON.parse, so a real comment there would make every
  // request fail. While the token is left as this literal placeholder the
  // header is not sent.
  var PLACEHOLDER = 'Bearer <token>';

  var el = document.getElementById('graphiql');
  var endpoint = el.getAttribute('data-endpoint');
  var title = (el.getAttribute('data-title') || 'GraphiQL').replace(/[\r\n]+/g, ' ');

  var httpURL = new URL(endpoint, window.location.href);
  var wsURL = new URL(httpURL.href);
  wsURL.protocol = httpURL.protocol === 'https:' ? 'wss:' : 'ws:';

  var base = GraphiQL.createFetcher({
    url: endpoint,
    subscriptionUrl: wsURL.href
  });

  function fetcher(params, opts) {
    var h = opts && opts.headers;
    if (h && h.Authorization === PLACEHOLDER) {
      var headers = {};
      Object.keys(h).forEach(function (k) {
        if (k !== 'Authorization') headers[k] = h[k];
      });
      opts = Object.assign({}, opts, { headers: headers });
    }
    return base(params, opts);
  }

  var defaultQuery = [
    '# Welcome to ' + title + '.',
    '#',
    '# To authenticate, set the Headers tab below',
    '# (JSON only, no comments there) to:',
    '#',
    '#   {"Authorization": "Bearer <token>"}',
    '#',
    '# The "Bearer <token>" placeholder itself is not sent.',
    '# Run with Ctrl-Enter or the play button.',
    '',
    '{',
    '  __typename',
    '}',
    ''
  ].join('\n');

  ReactDOM.createRoot(el).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      defaultHeaders: '{\n  "Authorization": "' + PLACEHOLDER + '"\n}',
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: true
    })
  );
})();
