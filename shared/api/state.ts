import { z } from 'zod';
import { STATE_KEY_MAX, STATE_KEYS_PER_REQUEST, STATE_PAGE_MAX, stateViews } from '../state.ts';
import { pagingParams, repeated, scopeList } from './query.ts';

/** GET /v1/state/{view}: an unknown view is a 404 that lists the views. */
export const stateViewParams = z.object({
  view: z.string().meta({ description: `One of: ${Object.keys(stateViews).join(', ')}.`, examples: Object.keys(stateViews) }),
});

export const stateQuerySchema = z
  .object({
    store_id: scopeList.optional(),
    user_id: scopeList.optional(),
    strategy_id: scopeList.optional(),
    tenant_id: scopeList.optional(),
    // Not split on commas: a row key may hold one (it is built from the publisher's ids).
    key: repeated(z.string().min(1, 'must not be empty').max(STATE_KEY_MAX, `must be at most ${STATE_KEY_MAX} characters`), {
      commas: false,
      max: STATE_KEYS_PER_REQUEST,
    })
      .optional()
      .meta({ description: `Only the rows with these keys (repeat the parameter; up to ${STATE_KEYS_PER_REQUEST}).` }),
    ...pagingParams(STATE_PAGE_MAX),
  })
  .strict();
