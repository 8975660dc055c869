/**
 * The contract of jobwatch, each rule defined once: the model types, the typed
 * errors, payload validation, job ordering and the REST rules (ids, limits,
 * meta filters, cursors, event ids, heartbeats, Retry-After, routes).
 * Imports nothing outside this folder; every other part may import it.
 */
export * from './types';
export * from './errors';
export * from './parseJob';
export * from './states';
export * from './ordering';
export * from './ids';
export * from './limits';
export * from './meta';
export * from './cursors';
export * from './eventIds';
export * from './heartbeat';
export * from './retryAfter';
export * from './routes';
export * from './listFilter';
export * from './output';
