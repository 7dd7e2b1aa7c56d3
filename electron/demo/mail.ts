import type { Runtime } from './runtime.ts';

/** Seed 003: a mailbox where new mail is classified by AI seconds later, and IMAP sync cycles. */
const INBOX = [
  { from: 'billing@cloudhost.example', subject: 'Invoice #{n} for October is available', snippet: 'Your invoice totalling $412.80 is ready.', category: 'invoice', priority: 'normal' },
  { from: 'kim.minji@partner.example', subject: 'Re: Q4 supply contract — signed copy', snippet: 'Attached is the signed contract. Please countersign by Friday.', category: 'work', priority: 'high' },
  { from: 'alerts@bank.example', subject: 'Unusual sign-in to your business account', snippet: 'We noticed a sign-in from a new device in Busan.', category: 'security', priority: 'urgent' },
  { from: 'newsletter@devweekly.example', subject: 'Dev Weekly #{n}: SSE vs WebSockets', snippet: 'This week: streaming, backpressure and more.', category: 'newsletter', priority: 'low' },
  { from: 'support@pos-vendor.example', subject: 'Ticket {n}: printer offline at store 12', snippet: 'Our technician will call you within 2 hours.', category: 'support', priority: 'high' },
  { from: 'hr@relaydesk.example', subject: 'Team dinner on Thursday', snippet: 'We booked the Korean BBQ place for 7 pm.', category: 'personal', priority: 'low' },
  { from: 'no-reply@exchange.example', subject: 'Withdrawal request confirmation', snippet: 'A withdrawal of 0.5 BTC is pending your confirmation.', category: 'finance', priority: 'urgent' },
  { from: 'deals@shop.example', subject: '70% off — today only!!!', snippet: 'Limited offer, click now.', category: 'spam', priority: 'low' },
] as const;
const SYNC_ERRORS = ['IMAP connection timed out after 30 s', 'authentication failed: app password expired', 'server returned NO [UNAVAILABLE] temporary failure'];

export const DEMO_MAIL_USER = '1';
export const DEMO_MAIL_ACCOUNT = 'ops@relaydesk.example';

export function startMail(rt: Runtime, userId = DEMO_MAIL_USER, account = DEMO_MAIL_ACCOUNT): void {
  const keys = { user_id: userId };
  let emailId = 50_000 + rt.int(0, 999);
  let conn = 0;
  const received: string[] = [];

  const arrive = () => {
    const m = rt.pick(INBOX);
    const id = String(++emailId);
    const subject = m.subject.replace('{n}', String(rt.int(100, 999)));
    received.push(id);
    if (received.length > 50) received.shift();
    rt.safely(() => rt.client.publish('mail.email.new', { email_id: id, from: m.from, subject, snippet: m.snippet, folder: 'INBOX', account, received_at: new Date().toISOString() }, keys));
    // The AI classifier answers a few seconds later.
    rt.after(rt.between(2_000, 6_000), () => {
      rt.safely(() =>
        rt.client.publish(
          'mail.email.classified',
          { email_id: id, category: m.category, priority: m.priority, summary: `${m.category}: ${m.snippet}` },
          { ...keys, priority: m.priority === 'urgent' ? 'urgent' : m.priority === 'high' ? 'high' : 'normal' },
        ),
      );
      if (m.category === 'spam') rt.after(1_500, () => rt.safely(() => rt.client.publish('mail.email.updated', { email_id: id, folder: 'Spam' }, keys)));
    });
    return 1;
  };

  const sync = () => {
    const connection_id = `imap-${++conn}`;
    const started = Date.now();
    rt.safely(() => rt.client.publish('mail.sync.started', { account, connection_id }, keys));
    rt.after(rt.between(1_000, 4_000), () => {
      // Roughly one sync in six fails; the next cycle usually recovers.
      if (rt.chance(0.17)) {
        rt.safely(() => rt.client.publish('mail.sync.error', { account, connection_id, error: rt.pick(SYNC_ERRORS), retry_in_s: 30 }, { ...keys, priority: 'high' }));
        return;
      }
      const n = rt.chance(0.4) ? rt.int(1, 2) : 0;
      for (let i = 0; i < n; i++) arrive();
      rt.safely(() => rt.client.publish('mail.sync.completed', { account, connection_id, new_count: n, duration_ms: Date.now() - started }, keys));
    });
  };

  const readSome = () => {
    if (!received.length) return;
    rt.safely(() => rt.client.publish('mail.email.updated', { email_id: rt.pick(received), read: true, ...(rt.chance(0.2) ? { starred: true } : {}) }, keys));
  };

  rt.every(6_000, 14_000, arrive, 800);
  rt.every(15_000, 25_000, sync, 1_500);
  rt.every(10_000, 20_000, readSome);
}
