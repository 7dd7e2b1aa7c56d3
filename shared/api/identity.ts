import { z } from 'zod';
import { tokenScopeSchema } from '../scope.ts';
import { tokenRoles } from '../api.ts';

/** GET /v1/whoami: the calling token, and the head of its own scope. */
export const whoamiSchema = z.object({
  token_id: z.string(),
  role: z.enum(tokenRoles),
  scope: tokenScopeSchema,
  /** How the caller authenticated: bearer, query (access_token) or session (the console cookie). */
  via: z.enum(['bearer', 'query', 'session']),
  hub_id: z.string(),
  head_seq: z.number().int().nonnegative(),
});
export type Whoami = z.infer<typeof whoamiSchema>;

/** GET /healthz: for load balancers; 503 while draining or forked. No auth, so no heads. */
export const healthSchema = z.object({
  status: z.enum(['ok', 'draining', 'forked']),
  hub_id: z.string(),
  engine: z.object({ connected: z.boolean(), lag_ms: z.number().nullable() }),
});
export type Health = z.infer<typeof healthSchema>;
