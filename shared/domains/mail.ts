import { z } from 'zod';

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

export const mailTypes = {
  'mail.email.new': mailEmailNew,
  'mail.email.classified': mailEmailClassified,
  'mail.email.updated': mailEmailUpdated,
  'mail.sync.started': mailSyncStarted,
  'mail.sync.completed': mailSyncCompleted,
  'mail.sync.error': mailSyncError,
} as const;

/**
 * What a reader can do to a mail from the console, as actions the mail-sync worker carries out on
 * the mailbox and then confirms with `mail.email.updated`: params `{read: boolean}` and
 * `{starred: boolean}`, target `{type: 'mail.email', id: email_id}`.
 */
export const MAIL_READ_ACTION = 'mail.mark_read';
export const MAIL_STAR_ACTION = 'mail.star';
