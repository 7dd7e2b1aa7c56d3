import { typeMatches, type HubEvent } from '../../shared/events.ts';

export interface LiveFilter {
  /** '' for all, an exact type, or a `domain.*` pattern (same matching as the hub's ?type=). */
  type: string;
  /** '' or `store_id=12`, `user_id=u1`, `strategy_id=3`, `tenant_id=acme`, `topic=<one topic>`. */
  scope: string;
  text: string;
}

const jsonCache = new WeakMap<HubEvent, string>();
/** Lower-cased JSON of an event, computed once per event (the text filter runs on every frame). */
function haystack(e: HubEvent): string {
  let s = jsonCache.get(e);
  if (s === undefined) {
    s = JSON.stringify(e).toLowerCase();
    jsonCache.set(e, s);
  }
  return s;
}

export function matches(f: LiveFilter, e: HubEvent): boolean {
  if (f.type && !typeMatches([f.type], e.type)) return false;
  if (f.scope) {
    // Split at the first `=` only: a topic may hold more (`https://x/a?b=c`).
    const at = f.scope.indexOf('=');
    const k = f.scope.slice(0, at);
    const v = f.scope.slice(at + 1);
    if (k === 'topic' ? !e.topics?.includes(v) : String(e[k as keyof HubEvent] ?? '') !== v) return false;
  }
  if (f.text && !haystack(e).includes(f.text.toLowerCase())) return false;
  return true;
}
