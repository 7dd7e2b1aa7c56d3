/**
 * Active subscriptions, as the Mercure protocol describes them: one per topic selector of each
 * connected subscriber. They are this hub's connections; on the Redis engine each hub lists its own
 * (the subscription events of all of them travel the bus like any update).
 */

export const JSONLD_CONTEXT = 'https://mercure.rocks/';
export const SUBSCRIPTIONS_PATH = '/.well-known/mercure/subscriptions';

/** RFC 6570 simple expansion: everything but unreserved characters is percent-encoded. */
export function expandValue(v: string): string {
  return encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The topic of a subscription's events, and its id: `/.well-known/mercure/subscriptions/{topic}/{subscriber}`. */
export function subscriptionId(topic: string, subscriber: string): string {
  return `${SUBSCRIPTIONS_PATH}/${expandValue(topic)}/${expandValue(subscriber)}`;
}

export interface SubscriptionDoc {
  id: string;
  type: 'Subscription';
  topic: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
}

export interface ActiveSubscriber {
  id: string;
  topics: readonly string[];
  payload?: unknown;
}

export class SubscriptionRegistry {
  private readonly subscribers = new Map<string, ActiveSubscriber>();

  add(s: ActiveSubscriber): void {
    this.subscribers.set(s.id, s);
  }

  remove(id: string): void {
    this.subscribers.delete(id);
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** The subscription documents of one subscriber. */
  docsOf(s: ActiveSubscriber, active: boolean): SubscriptionDoc[] {
    return s.topics.map((topic) => ({
      id: subscriptionId(topic, s.id),
      type: 'Subscription',
      topic,
      subscriber: s.id,
      active,
      ...(s.payload !== undefined ? { payload: s.payload } : {}),
    }));
  }

  /** Active subscriptions, optionally of one topic selector and one subscriber. */
  list(topic?: string, subscriber?: string): SubscriptionDoc[] {
    const out: SubscriptionDoc[] = [];
    for (const s of this.subscribers.values()) {
      if (subscriber !== undefined && s.id !== subscriber) continue;
      for (const d of this.docsOf(s, true)) if (topic === undefined || d.topic === topic) out.push(d);
    }
    return out;
  }
}
