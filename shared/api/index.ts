// The HTTP API's contract: every route's parameters, query, body and responses. The hub's routes
// declare these (and the API document is generated from them); the CLI, the Node client and the
// console parse the hub's answers with the same schemas.
export * from './query.ts';
export * from './events.ts';
export * from './identity.ts';
export * from './admin.ts';
export * from './webhooks.ts';
export * from './inbox.ts';
export * from './state.ts';
export * from './routes.ts';
export * from './answer.ts';
