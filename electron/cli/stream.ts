import { EventSource } from 'eventsource';
import type { z } from 'zod';
import { hubEventSchema, type HubEvent } from '../../shared/events.ts';
import { CONTROL, formatEventId, connectionEventSchema, resetEventSchema, forceDisconnectSchema, type ConnectionEvent, type ResetEvent, type ForceDisconnect } from '../../shared/wire.ts';
import { errorFromResponse } from '../client/index.ts';
import { describeError, EXIT, CliError, type Ctx } from './common.ts';

/** What a command does with what the stream brings; every frame is checked against its shared schema first. */
export interface StreamHandlers {
  /** An event (`message` frame). `raw` is its JSON as the hub sent it. */
  event(e: HubEvent, raw: string): void;
  /** Connected (`again`: after a drop), at the hub's head or resuming after `resume_from`. */
  connection?(c: ConnectionEvent, again: boolean): void;
  /** The snapshot (`snapshot=1`): its raw JSON and its event id. */
  initial?(raw: string, id: string): void;
  reset?(r: ResetEvent): void;
  heartbeat?(raw: string): void;
  /** The hub closed the stream; `final` when it said not to reconnect (the command then exits 4). */
  forceDisconnect?(f: ForceDisconnect, final: boolean, resumeFrom: string | undefined): void;
  /** The connection dropped; EventSource reconnects and resumes after `resumeFrom`. */
  lost?(message: string, resumeFrom: string | undefined): void;
  /** A frame this CLI cannot read (another hub version): reported and skipped. */
  skipped(what: string, problem: string): void;
}

export interface FollowedStream {
  /** The exit code, once the stream ended: refused, unreachable, disconnected for good, interrupted, or `stop`. */
  readonly done: Promise<number>;
  /** End it with this exit code. */
  stop(code: number): void;
  /** Whether it has ended (frames parsed from the same chunk keep arriving after close). */
  readonly stopped: boolean;
}

/**
 * Follow `GET /v1/stream` (`url`, filters already in its query) the way every CLI command does:
 * the token as a bearer header; resume with the whole last event id (epoch included) after a drop;
 * a 5xx after the first connection is a drop (a restarting hub), not a refusal; a refusal, an
 * unreachable hub, a final force_disconnect or Ctrl-C ends it with the matching exit code.
 * `since`: resume after this event id from the start.
 */
export function followStream(ctx: Ctx, url: URL, since: string | undefined, h: StreamHandlers): FollowedStream {
  /** A frame checked against its shared schema (and kept as sent); one this CLI cannot read is reported and skipped. */
  const frame = <S extends z.ZodType>(schema: S, data: string, what: string): z.output<S> | null => {
    const value: unknown = JSON.parse(data);
    const r = schema.safeParse(value);
    if (r.success) return value as z.output<S>;
    const i = r.error.issues[0]!;
    h.skipped(what, `${i.path.join('.') || 'frame'}: ${i.message}`);
    return null;
  };

  let refused: CliError | undefined;
  // Where to resume after a drop: the last event id, or the head we joined at when nothing matched yet
  // (EventSource only sends Last-Event-ID once it has seen an id; without this a quiet filtered stream
  // would silently skip what was published while it was away). The whole id is echoed, epoch
  // included, so a hub whose log was replaced or forked meanwhile answers with a reset.
  let lastId: string | undefined = since;
  let everOpen = false;
  const es = new EventSource(url, {
    fetch: async (input, init) => {
      const headers: Record<string, string> = { ...(init?.headers as Record<string, string>), authorization: `Bearer ${ctx.http.token}` };
      if (lastId !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'last-event-id')) headers['Last-Event-ID'] = lastId;
      const res = await fetch(input, { ...init, headers });
      // EventSource hides the body of a refused stream; keep the hub's error to print it.
      if (res.status !== 200) {
        const e = await errorFromResponse(res.clone());
        // A hub that is restarting answers 503 for a moment: after a first successful connection,
        // treat 5xx like a dropped connection so EventSource keeps retrying (with Last-Event-ID).
        if (everOpen && e.retryable) throw new TypeError(`hub answered ${e.status} ${e.code}`);
        refused = describeError(e, ctx.url);
      }
      return res;
    },
  });

  let stopped = false;
  let down = false;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    finish = (c: number) => {
      if (stopped) return;
      stopped = true;
      process.off('SIGINT', interrupted);
      es.close();
      resolve(c);
    };
  });
  const interrupted = () => finish(EXIT.interrupted);
  process.once('SIGINT', interrupted);

  es.addEventListener('message', (m) => {
    if (stopped) return;
    const e = frame(hubEventSchema, m.data, 'event');
    lastId = m.lastEventId || lastId;
    if (e) h.event(e, m.data);
  });
  es.addEventListener(CONTROL.connection, (m) => {
    const c = frame(connectionEventSchema, m.data, 'connection');
    if (!c) return;
    lastId ??= c.epoch ? formatEventId(c.head_seq, c.epoch) : String(c.head_seq);
    const again = everOpen;
    everOpen = true;
    down = false;
    h.connection?.(c, again);
  });
  es.addEventListener(CONTROL.initial, (m) => {
    lastId = m.lastEventId || lastId;
    h.initial?.(m.data, m.lastEventId);
  });
  es.addEventListener(CONTROL.reset, (m) => {
    const r = frame(resetEventSchema, m.data, 'reset');
    if (r) h.reset?.(r);
  });
  es.addEventListener(CONTROL.heartbeat, (m) => h.heartbeat?.(m.data));
  es.addEventListener(CONTROL.forceDisconnect, (m) => {
    const f = frame(forceDisconnectSchema, m.data, 'force_disconnect');
    if (!f) return;
    h.forceDisconnect?.(f, f.retry_ms === null, lastId);
    if (f.retry_ms === null) finish(EXIT.disconnected);
  });
  es.addEventListener('error', (e) => {
    if (es.readyState === EventSource.CLOSED) {
      // A refused stream (401/403/409...) or a non-SSE answer: EventSource does not retry these.
      const r = refused ?? new CliError(`stream refused: ${(e as { code?: number }).code ?? ''} ${(e as { message?: string }).message ?? ''}`.trim(), EXIT.refused);
      process.stderr.write(`relaydesk: ${r.message}\n`);
      return finish(r.exitCode);
    }
    if (!everOpen) {
      process.stderr.write(`relaydesk: cannot reach the hub at ${ctx.url}: ${(e as { message?: string }).message ?? 'connection failed'}\n`);
      return finish(EXIT.unreachable);
    }
    if (!down) h.lost?.((e as { message?: string }).message ?? 'closed', lastId);
    down = true;
  });

  return {
    done,
    stop: (code) => finish(code),
    get stopped() {
      return stopped;
    },
  };
}
