import { describe, expect, it } from 'vitest';
import { actionRequestSchema } from '../../../shared/domains/action.ts';
import { emergencyAcceptRequest, eventActionRequest, swapApproveRequest, swapRejectRequest } from '../../../renderer/actions/row-actions.ts';
import type { ProjectionRow } from '../../../shared/state.ts';

const row = (data: Record<string, unknown>): ProjectionRow => ({
  key: 'st-marys|///s1',
  seq: 41,
  store_id: null,
  user_id: null,
  strategy_id: null,
  tenant_id: 'st-marys',
  created_at: '2026-12-02T10:00:00.000Z',
  updated_at: '2026-12-02T10:00:00.000Z',
  data,
});

describe('console requests about a tenant\'s rows and events', () => {
  it('carry the tenant, so a tenant-scoped operator can act and the request stays in its tenant', () => {
    const swap = row({ swap_id: 's1' });
    for (const body of [swapApproveRequest(swap), swapRejectRequest(swap, 'no cover'), emergencyAcceptRequest(row({ call_id: 'c1' }))]) {
      expect(body).toMatchObject({ tenant_id: 'st-marys', target: { seq: 41 } });
      expect(actionRequestSchema.safeParse(body).success).toBe(true);
    }
    expect(swapRejectRequest(swap, 'no cover')).toMatchObject({ name: 'schedule.swap.reject', target: { type: 'schedule.swap', id: 's1' }, params: { reason: 'no cover' } });
    const attached = eventActionRequest({ seq: 7, id: 'e-7', type: 'schedule.emergency.called', store_id: null, user_id: null, strategy_id: null, tenant_id: 'st-marys' }, { id: 'ack', label: 'Acknowledge' });
    expect(attached).toMatchObject({ name: 'ack', tenant_id: 'st-marys', target: { type: 'schedule.emergency.called', id: 'e-7', seq: 7 } });
    // Events without a tenant send none (the hub would refuse a tenant the token does not have).
    expect(eventActionRequest({ seq: 8, id: 'e-8', type: 'x.y', store_id: '12', user_id: null, strategy_id: null }, { id: 'ack', label: 'Ack' })).not.toHaveProperty('tenant_id');
  });
});
