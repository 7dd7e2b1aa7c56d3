import type { Runtime } from './runtime.ts';
import type { HubEvent } from '../../shared/events.ts';
import { actionRequested } from '../../shared/domains/action.ts';
import { MAIL_READ_ACTION, MAIL_STAR_ACTION } from '../../shared/domains/mail.ts';
import { outcomeId } from './receiver.ts';

/** A mailbox where new mail is classified by AI seconds later, and IMAP sync cycles. */
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

/** Mails remembered after they scroll out of the recent list, so an action on one still applies. */
const MAX_KNOWN_EMAILS = 500;
/** The flag each mail action sets, by action name. */
const FLAG_OF = { [MAIL_READ_ACTION]: 'read', [MAIL_STAR_ACTION]: 'starred' } as const;

export interface MailBackend {
  /** Answers `mail.mark_read` and `mail.star` delivered by webhook, under the mail user's keys. */
  handleAction(event: HubEvent): void;
}

export function startMail(rt: Runtime, userId = DEMO_MAIL_USER, account = DEMO_MAIL_ACCOUNT): MailBackend {
  const keys = { user_id: userId };
  let emailId = 50_000 + rt.int(0, 999);
  let conn = 0;
  const received: string[] = [];
  const known = new Map<string, { read: boolean; starred: boolean }>();

  const arrive = () => {
    const m = rt.pick(INBOX);
    const id = String(++emailId);
    const subject = m.subject.replace('{n}', String(rt.int(100, 999)));
    received.push(id);
    if (received.length > 50) received.shift();
    known.set(id, { read: false, starred: false });
    if (known.size > MAX_KNOWN_EMAILS) known.delete(known.keys().next().value!);
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
    const id = rt.pick(received);
    const star = rt.chance(0.2);
    const m = known.get(id);
    if (m) Object.assign(m, { read: true }, star ? { starred: true } : {});
    rt.safely(() => rt.client.publish('mail.email.updated', { email_id: id, read: true, ...(star ? { starred: true } : {}) }, keys));
  };

  rt.every(6_000, 14_000, arrive, 800);
  rt.every(15_000, 25_000, sync, 1_500);
  rt.every(10_000, 20_000, readSome);

  return {
    handleAction(event) {
      // The endpoint's scope is the user's, which the trading bot shares: a request naming a strategy
      // or a store is the trading bot's or the store's to answer, and any other name is not a mail's.
      if (event.user_id !== userId || event.strategy_id || event.store_id) return;
      const parsed = actionRequested.safeParse(event.data);
      if (!parsed.success) return rt.log.warn(`demo: ignored a malformed action.requested (seq ${event.seq})`);
      const req = parsed.data;
      if (req.name !== MAIL_READ_ACTION && req.name !== MAIL_STAR_ACTION) return;
      const outcome = (type: 'action.accepted' | 'action.rejected' | 'action.completed', data: Record<string, unknown>) =>
        rt.safely(() => rt.client.publish(type, { action_id: req.action_id, ...data }, { ...keys, priority: 'high', id: outcomeId(req.action_id, type.slice(7)) }));
      const flag = FLAG_OF[req.name];
      const value = req.params[flag];
      if (typeof value !== 'boolean') return outcome('action.rejected', { reason: `params.${flag} must be true or false` });
      const emailId = req.target.id;
      const m = req.target.type === 'mail.email' ? known.get(emailId) : undefined;
      if (!m) return outcome('action.rejected', { reason: `email ${emailId} is not a mail of user ${userId} that this backend knows` });
      outcome('action.accepted', { message: `email ${emailId}: ${flag} → ${value}` });
      m[flag] = value;
      rt.safely(() => rt.client.publish('mail.email.updated', { email_id: emailId, [flag]: value }, { ...keys, id: outcomeId(req.action_id, 'email') }));
      outcome('action.completed', { result: { email_id: emailId, [flag]: value } });
    },
  };
}
