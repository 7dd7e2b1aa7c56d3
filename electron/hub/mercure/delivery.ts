import type { HubEvent } from '../../../shared/events.ts';
import type { ReplaySource } from '../broker.ts';
import type { EventLog } from '../log.ts';
import type { FrameFormat } from '../subscriber.ts';
import { updateFrame, updateOf } from './update.ts';

const REPLAY_PAGE_EVENTS = 500;

/** Mercure frames: the update's own id, its type as the event name, its data line by line. */
export const updateFormat: FrameFormat = {
  name: 'mercure',
  // A comment, as Mercure hubs send: a Mercure client has no use for the hub's heartbeat event.
  heartbeat: ':\n\n',
  frame: (e) => {
    const u = updateOf(e.event);
    // The subscription's match admits updates only; anything else here is a bug, not a client's.
    if (!u) throw new Error(`event ${e.event.seq} (${e.event.type}) is not a Mercure update`);
    return updateFrame(u);
  },
};

/**
 * Catch-up for a Mercure subscriber: the log after a position, narrowed in SQL to rows with a topic
 * its selectors can match (the event_topics index), every row then checked by the subscriber's own
 * match (its topics, and its claims for private updates).
 */
export function updateReplay(log: EventLog, selectors: string[], match: (e: HubEvent) => boolean): ReplaySource {
  const scoped = { scope: {}, filters: { topic: selectors } };
  return {
    readAfter: (after, maxBytes) => {
      const page = log.readAfter(after, REPLAY_PAGE_EVENTS, match, scoped, maxBytes);
      return { ...page, caughtUp: page.scannedTo >= log.head };
    },
  };
}
