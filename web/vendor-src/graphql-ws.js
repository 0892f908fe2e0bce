// The only third-party code the pages load: the graphql-ws client
// (graphql-transport-ws protocol). `make web` bundles it into
// assets/vendor/graphql-ws.js; the pages import it from there.
export { createClient, CloseCode } from 'graphql-ws/client';
