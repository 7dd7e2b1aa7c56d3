import { z } from 'zod';
import { hubEventSchema, priority, reaches, type Priority } from './events.ts';

/**
 * The notification inbox: which notable events (priority at or above a threshold) a token has read
 * or dismissed. Marks are kept by the hub per token, so every window signed in with the same token
 * (the desktop window, a browser, a tablet opened from a login link) shares them.
 */
export const INBOX_PAGE_DEFAULT = 100;
export const INBOX_PAGE_MAX = 500;
/** Seqs one mark request may name. */
export const INBOX_MARK_MAX = 1_000;
/** The threshold the hub counts unread events at when none is asked for (and in `inbox` frames). */
export const INBOX_DEFAULT_PRIORITY: Priority = 'high';

export const prioritiesFrom = (min: Priority): Priority[] => priority.options.filter((p) => reaches(p, min));

/** POST /v1/inbox/read, /unread and /dismiss: either the seqs to mark, or `all` (every notable event in scope). */
export const inboxMarkSchema = z
  .object({
    seqs: z.array(z.number().int().positive('must be an event seq')).min(1, 'must name at least one seq').max(INBOX_MARK_MAX, `at most ${INBOX_MARK_MAX} seqs`).optional(),
    all: z.literal(true).optional(),
    /** With `all`: the threshold of "notable" (default high). */
    min_priority: priority.optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.seqs === undefined) === (v.all === undefined)) ctx.addIssue({ code: 'custom', path: ['seqs'], message: 'send either seqs: [...] or all: true' });
    if (v.min_priority !== undefined && !v.all) ctx.addIssue({ code: 'custom', path: ['min_priority'], message: 'only applies with all: true' });
  });
export type InboxMark = z.infer<typeof inboxMarkSchema>;

export const inboxCountsSchema = z.object({
  /** Unread, undismissed events at or above `min_priority`. */
  unread: z.number().int().nonnegative(),
  /** Of those, the urgent ones (what the tray and the tab title show). */
  unread_urgent: z.number().int().nonnegative(),
  min_priority: priority,
});
export type InboxCounts = z.infer<typeof inboxCountsSchema>;

export const inboxItemSchema = z.object({
  event: hubEventSchema,
  read: z.boolean(),
  dismissed: z.boolean(),
});
export type InboxItem = z.infer<typeof inboxItemSchema>;

/** GET /v1/inbox: newest first. */
export const inboxPageSchema = inboxCountsSchema.extend({
  items: z.array(inboxItemSchema),
  next_cursor: z.string().nullable(),
});
export type InboxPage = z.infer<typeof inboxPageSchema>;

export const inboxOps = ['read', 'unread', 'dismiss'] as const;
export type InboxOp = (typeof inboxOps)[number];

/** Reply to a mark request, and the body of the `inbox` control frame every stream of the token gets. */
export const inboxChangeSchema = inboxCountsSchema.extend({
  op: z.enum(inboxOps),
  /** The seqs named, or null for `all`. */
  seqs: z.array(z.number().int().positive()).nullable(),
  /** With `all`: every notable event at or below this seq (the scope's head then) was marked. */
  through: z.number().int().nonnegative().nullable(),
  /** With `all`: the threshold it applied to. */
  all_min_priority: priority.nullable(),
});
export type InboxChange = z.infer<typeof inboxChangeSchema>;
