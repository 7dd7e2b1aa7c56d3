import { describe, expect, it } from 'vitest';
import { nativeActionButtons } from '../../../electron/shell/notify-policy.ts';
import { focusEventSchema, notifyRequestSchema } from '../../../shared/desktop-bridge.ts';

const req = notifyRequestSchema.parse({
  title: 'Urgent: x.deploy.failed',
  body: 'web v42 failed on web-7',
  seq: 42,
  priority: 'urgent',
  actions: [
    { id: 'deploy.rollback', label: 'Roll back' },
    { id: 'deploy.retry', label: 'Retry' },
  ],
});

describe('native notification actions', () => {
  it('are buttons on macOS only; elsewhere the notification has none and a click focuses the event', () => {
    expect(nativeActionButtons(req, 'darwin')).toEqual([
      { type: 'button', text: 'Roll back' },
      { type: 'button', text: 'Retry' },
    ]);
    expect(nativeActionButtons(req, 'linux')).toEqual([]);
    expect(nativeActionButtons(req, 'win32')).toEqual([]);
    expect(nativeActionButtons({ ...req, actions: undefined }, 'darwin')).toEqual([]);
  });

  it('cross the bridge checked: a pressed button names an action id, nothing else', () => {
    expect(focusEventSchema.parse({ seq: 42, action: 'deploy.rollback' })).toEqual({ seq: 42, action: 'deploy.rollback' });
    expect(focusEventSchema.safeParse({ seq: 42, action: 'javascript:alert(1)' }).success).toBe(false);
    expect(notifyRequestSchema.safeParse({ ...req, actions: Array.from({ length: 6 }, (_, i) => ({ id: `a.b${i}`, label: 'x' })) }).success).toBe(false);
  });
});
