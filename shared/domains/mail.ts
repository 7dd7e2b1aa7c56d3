import { z } from 'zod';
import { stateRowKey } from '../state-keys.ts';
import { defineDomain, str, type Data, type DomainEvent, type StateRule } from './define.ts';

// Loose at every level: these schemas check the fields they name and keep every other one, because
// an event is stored and delivered as its publisher sent it (shared/events.ts#normalizeData).

const emailId = z.union([z.string().min(1).max(128), z.number().int()]).transform(String);

export const mailPriority = z.enum(['low', 'normal', 'high', 'urgent']);

export const mailEmailNew = z.looseObject({
  email_id: emailId,
  from: z.string().min(1).max(320),
  subject: z.string().max(998),
  snippet: z.string().max(2000).default(''),
  folder: z.string().min(1).max(128).default('INBOX'),
  account: z.string().max(320).optional(),
  received_at: z.iso.datetime({ offset: true }).optional(),
});

export const mailEmailClassified = z.looseObject({
  email_id: emailId,
  category: z.string().min(1).max(64),
  priority: mailPriority,
  summary: z.string().max(4000).optional(),
});

export const mailEmailUpdated = z.looseObject({
  email_id: emailId,
  read: z.boolean().optional(),
  starred: z.boolean().optional(),
  folder: z.string().min(1).max(128).optional(),
  deleted: z.boolean().optional(),
});

export const mailSyncStarted = z.looseObject({
  account: z.string().max(320).optional(),
  connection_id: z.union([z.string().max(128), z.number().int()]).transform(String).optional(),
});

export const mailSyncCompleted = mailSyncStarted.extend({
  new_count: z.number().int().nonnegative().default(0),
  duration_ms: z.number().nonnegative().optional(),
});

export const mailSyncError = mailSyncStarted.extend({
  error: z.string().min(1).max(2000),
  retry_in_s: z.number().nonnegative().optional(),
});

/** A sync run's state, one row per account (or connection): its last event says where it stands. */
const syncRule: StateRule<'mail_sync'> = {
  op: 'patch',
  kind: 'mail_sync',
  id: (d) => d.account ?? d.connection_id ?? 'default',
  idText: '`account`, else `connection_id`, else "default"',
  fields: (d: Data, ev: DomainEvent) => ({ ...d, state: ev.type.slice('mail.sync.'.length), at: ev.time }),
  wholeRow: true,
};

const account = (d: Data) => (d.account ? ` ${str(d.account)}` : '');

export const mail = defineDomain({
  name: 'mail',
  types: {
    'mail.email.new': mailEmailNew,
    'mail.email.classified': mailEmailClassified,
    'mail.email.updated': mailEmailUpdated,
    'mail.sync.started': mailSyncStarted,
    'mail.sync.completed': mailSyncCompleted,
    'mail.sync.error': mailSyncError,
  },
  requiredKeys: ['user_id'],
  kinds: {
    // Lower cap than the others: mail rows are the largest.
    mail: { field: 'mail', cap: 1_000, view: 'mail', prunedWithLog: true },
    mail_sync: { field: 'mail_sync', cap: 5_000, view: 'mail' },
  },
  state: {
    'mail.email.new': { op: 'create', kind: 'mail', id: 'email_id' },
    // The classification is kept under its own field, so it never overwrites the mail's own.
    'mail.email.classified': { op: 'patch', kind: 'mail', id: 'email_id', fields: ({ email_id, ...classification }) => ({ email_id, classification }) },
    'mail.email.updated': { op: 'patch', kind: 'mail', id: 'email_id', deleteIf: (d) => Boolean(d.deleted) },
    'mail.sync.started': syncRule,
    'mail.sync.completed': syncRule,
    'mail.sync.error': syncRule,
  },
  summary: {
    'mail.email.new': (d) => `${str(d.from)}: ${str(d.subject)}`,
    'mail.email.classified': (d, ev, ctx) => {
      // A person recognises mail by its subject and sender, not by the sync worker's id.
      const m = ctx.row?.('mail', stateRowKey(ev, d.email_id));
      const category = str(d.category);
      const label = category ? category[0]!.toUpperCase() + category.slice(1) : 'Classified';
      return m && (m.subject || m.from)
        ? `${label}: “${str(m.subject) || '(no subject)'}” from ${str(m.from) || 'unknown sender'}`
        : `${label}: mail ${str(d.email_id)} (${str(d.priority)})${d.summary ? ` · ${str(d.summary)}` : ''}`;
    },
    'mail.email.updated': (d) => {
      const changes = Object.entries(d).filter(([k]) => k !== 'email_id').map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : str(v)}`);
      return `Mail ${str(d.email_id)} updated${changes.length ? `: ${changes.join(' ')}` : ''}`;
    },
    'mail.sync.started': (d) => `Mail sync started${account(d)}`,
    'mail.sync.completed': (d) => `Mail sync done${account(d)} · ${str(d.new_count ?? 0)} new${d.duration_ms !== undefined ? ` in ${str(d.duration_ms)} ms` : ''}`,
    'mail.sync.error': (d) => `Mail sync failed${account(d)}: ${str(d.error)}${d.retry_in_s !== undefined ? ` (retry in ${str(d.retry_in_s)} s)` : ''}`,
  },
  colour: '33',
});
export const mailTypes = mail.types;

/**
 * What a reader can do to a mail from the console, as actions the mail-sync worker carries out on
 * the mailbox and then confirms with `mail.email.updated`: params `{read: boolean}` and
 * `{starred: boolean}`, target `{type: 'mail.email', id: email_id}`.
 */
export const MAIL_READ_ACTION = 'mail.mark_read';
export const MAIL_STAR_ACTION = 'mail.star';
