import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { retryDelay, signedHeaders, webhookId, webhookPayload, WEBHOOK_DEFAULTS } from '../../../electron/hub/webhooks/dispatcher.ts';
import { generateSecret } from '../../../electron/hub/webhooks/endpoints.ts';
import type { HubEvent } from '../../../shared/events.ts';

describe('webhook retry schedule', () => {
  it('doubles per attempt up to the cap, with half of each step random', () => {
    const o = { baseDelayMs: 1_000, maxDelayMs: 300_000 };
    expect([1, 2, 3, 4].map((a) => retryDelay(a, o, () => 0))).toEqual([500, 1_000, 2_000, 4_000]);
    expect([1, 2, 3, 4].map((a) => retryDelay(a, o, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(retryDelay(30, o, () => 1)).toBe(300_000);
    expect(retryDelay(30, o, () => 0)).toBe(150_000);
  });

  it('with the defaults, a backend down for a minute is retried within about two minutes of coming back', () => {
    // Worst case: every wait at its longest; the attempt after the outage comes at most one step later.
    let t = 0;
    let attempt = 0;
    while (t < 60_000) t += retryDelay(++attempt, WEBHOOK_DEFAULTS, () => 1);
    expect(attempt).toBeLessThan(WEBHOOK_DEFAULTS.maxAttempts);
    expect(t).toBeLessThan(130_000);
  });
});

describe('webhook signing', () => {
  it('signs the Standard Webhooks way: a receiver library verifies it, and refuses a changed body', () => {
    const secret = generateSecret();
    const ev = { seq: 7, id: 'a', type: 'store.order.created', data: { order_id: '1', extra: { kept: true } }, store_id: '12', user_id: null, strategy_id: null, priority: 'normal', time: '2026-12-02T00:00:00.000Z', received_at: '2026-12-02T00:00:01.000Z' } as HubEvent;
    const payload = webhookPayload(ev);
    const headers = signedHeaders(secret, webhookId('hub-1', 7), payload, new Date());
    expect(headers['webhook-id']).toBe('msg_hub-1_7');
    expect(new Webhook(secret).verify(payload, headers)).toEqual({ type: ev.type, timestamp: ev.received_at, data: ev });
    expect(() => new Webhook(secret).verify(payload.replace('"kept":true', '"kept":false'), headers)).toThrow();
    expect(() => new Webhook(generateSecret()).verify(payload, headers)).toThrow();
  });
});
