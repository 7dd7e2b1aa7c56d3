import { Command, Option } from 'commander';
import { EventSource } from 'eventsource';
import type { z } from 'zod';
import { hubEventSchema, type HubEvent } from '../../shared/events.ts';
import { builtinRegistry, type DomainRegistry } from '../../shared/domains/index.ts';
import { CONTROL, formatEventId, parseEventId, connectionEventSchema, resetEventSchema, forceDisconnectSchema } from '../../shared/wire.ts';
import { stateViewOf, truncatedFields, type Snapshot } from '../../shared/state.ts';
import { errorFromResponse } from '../client/index.ts';
import { context, describeError, colorEnabled, painter, list, positiveInt, EXIT, EXIT_CODES_HELP, CliError, usage, type Paint } from './common.ts';

interface TailFlags {
  store: string[];
  user: string[];
  strategy: string[];
  type: string[];
  since?: string;
  snapshot?: boolean;
  json?: boolean;
  limit?: number;
  color: boolean;
  heartbeats?: boolean;
}

const PRIORITY_COLOUR: Record<string, string> = { low: '2', normal: '0', high: '1;33', urgent: '1;31' };

/** The event's one-line summary, the same text the console shows (each domain writes its own). */
export function summarize(e: Pick<HubEvent, 'type' | 'data'> & Partial<HubEvent>, registry: DomainRegistry = builtinRegistry): string {
  return registry.summarize(e);
}

export function formatEvent(e: HubEvent, paint: Paint): string {
  const time = (e.received_at ?? e.time ?? '').slice(11, 23);
  const keys = [e.store_id != null ? `store=${e.store_id}` : '', e.user_id != null ? `user=${e.user_id}` : '', e.strategy_id != null ? `strategy=${e.strategy_id}` : '']
    .filter(Boolean)
    .join(' ');
  const prio = e.priority !== 'normal' ? ' ' + paint(PRIORITY_COLOUR[e.priority] ?? '0', `[${e.priority.toUpperCase()}]`) : '';
  return `${paint('2', time)} ${paint('2', `#${e.seq}`)} ${paint(builtinRegistry.colour(e.type) ?? '34', e.type)}${prio} ${paint('2', keys)}  ${summarize(e)}`;
}

export function tailCommand(): Command {
  return new Command('tail')
    .description('live view of the event stream (SSE), with filters; resumes by Last-Event-ID after a disconnect')
    .addOption(new Option('--store <ids>', 'only these store_ids (repeatable, comma-separated)').default([]).argParser(list))
    .addOption(new Option('--user <ids>', 'only these user_ids').default([]).argParser(list))
    .addOption(new Option('--strategy <ids>', 'only these strategy_ids').default([]).argParser(list))
    .addOption(new Option('--type <types>', 'only these types; "trading.*" matches a domain').default([]).argParser(list))
    .option('--since <id>', 'replay events after this event id (<seq>, or <seq>@<epoch> as the hub sent it) first, then go live')
    .option('--snapshot', 'print the current-state snapshot the hub sends first')
    .option('--json', 'raw mode: one JSON event per line on stdout (control events go to stderr as JSON)')
    .addOption(new Option('-n, --limit <n>', 'exit after N events (for scripts)').argParser(positiveInt('--limit')))
    .option('--heartbeats', 'show heartbeats')
    .option('--no-color', 'no colours (also NO_COLOR, or when stdout is not a terminal)')
    .addHelpText(
      'after',
      `
Examples:
  relaydesk tail --store 12
  relaydesk tail --user 1 --strategy 1,2 --type 'trading.*'
  relaydesk tail --json --limit 100 > events.ndjson
${EXIT_CODES_HELP}`,
    )
    .action(async (flags: TailFlags, cmd: Command) => {
      const ctx = context(cmd);
      if (flags.since !== undefined && !parseEventId(flags.since)) throw usage(`--since must be an event id (<seq> or <seq>@<epoch>), got "${flags.since}"`);
      const paint = painter(!flags.json && colorEnabled(process.stdout, flags.color));
      const note = (s: string) => process.stderr.write(`${painter(colorEnabled(process.stderr, flags.color))('2', s)}\n`);
      const loud = (code: string, s: string) => process.stderr.write(`${painter(colorEnabled(process.stderr, flags.color))(code, s)}\n`);
      const control = (name: string, data: unknown) => process.stderr.write(JSON.stringify({ control: name, data }) + '\n');
      /** A frame checked against its shared schema (and kept as sent); one this CLI cannot read is reported and skipped. */
      const frame = <S extends z.ZodType>(schema: S, data: string, what: string): z.output<S> | null => {
        const value: unknown = JSON.parse(data);
        const r = schema.safeParse(value);
        if (r.success) return value as z.output<S>;
        const i = r.error.issues[0]!;
        loud('1;31', `skipped a ${what} frame this CLI does not understand (${i.path.join('.') || 'frame'}: ${i.message}); is the hub the same version?`);
        return null;
      };

      const u = new URL('/v1/stream', ctx.url);
      u.searchParams.set('events', 'message');
      for (const [k, vs] of [['store_id', flags.store], ['user_id', flags.user], ['strategy_id', flags.strategy], ['type', flags.type]] as const)
        for (const v of vs) u.searchParams.append(k, v);
      if (flags.snapshot) u.searchParams.set('snapshot', 'true');
      if (flags.since !== undefined) u.searchParams.set('lastEventId', flags.since);

      let refused: CliError | undefined;
      // Where to resume after a drop: the last event id, or the head we joined at when nothing matched yet
      // (EventSource only sends Last-Event-ID once it has seen an id; without this a quiet filtered tail
      // would silently skip what was published while it was away). The whole id is echoed, epoch
      // included, so a hub whose log was replaced or forked meanwhile answers with a reset.
      let lastId: string | undefined = flags.since;
      let everOpen = false;
      const es = new EventSource(u, {
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

      let received = 0;
      let down = false;
      const code = await new Promise<number>((resolve) => {
        let done = false;
        const finish = (c: number) => {
          if (done) return;
          done = true;
          es.close();
          resolve(c);
        };
        process.once('SIGINT', () => finish(EXIT.interrupted));
        es.addEventListener('message', (m) => {
          // Events parsed from the same chunk keep arriving after close(); --limit means exactly N.
          if (done) return;
          const e = frame(hubEventSchema, m.data, 'event');
          lastId = m.lastEventId || lastId;
          if (!e) return;
          received++;
          process.stdout.write((flags.json ? m.data : formatEvent(e, paint)) + '\n');
          if (flags.limit !== undefined && received >= flags.limit) finish(EXIT.ok);
        });
        es.addEventListener(CONTROL.connection, (m) => {
          const c = frame(connectionEventSchema, m.data, 'connection');
          if (!c) return;
          lastId ??= c.epoch ? formatEventId(c.head_seq, c.epoch) : String(c.head_seq);
          const again = everOpen;
          everOpen = true;
          down = false;
          if (flags.json) return control('connection', c);
          const f = Object.entries(c.filters).filter(([, v]) => v?.length).map(([k, v]) => `${k}=${(v as string[]).join(',')}`).join(' ');
          note(
            `${again ? 'reconnected' : 'connected'} to ${c.hub_id} at ${ctx.url} (head #${c.head_seq}${c.resume_from !== null ? `, resuming after #${c.resume_from}` : ', live'}${f ? `, ${f}` : ''})`,
          );
        });
        es.addEventListener(CONTROL.initial, (m) => {
          lastId = m.lastEventId || lastId;
          if (flags.json) return control('initial', JSON.parse(m.data));
          note(`snapshot at #${m.lastEventId}: ${m.data.length > 400 ? m.data.slice(0, 400) + '...' : m.data}`);
          // A hub from before snapshot counts sends none: nothing to warn about, not a crash.
          const counts: Partial<Snapshot['counts']> = (JSON.parse(m.data) as Partial<Snapshot>).counts ?? {};
          for (const f of truncatedFields(counts))
            loud(
              '1;33',
              `snapshot holds the newest ${counts[f]!.returned} of ${counts[f]!.total} ${f}${counts[f]!.truncated === 'bytes' ? ' (as many as fit in its size limit)' : ''}; GET /v1/state/${stateViewOf(f)} pages through all of them`,
            );
        });
        es.addEventListener(CONTROL.reset, (m) => {
          const r = frame(resetEventSchema, m.data, 'reset');
          if (!r) return;
          if (flags.json) return control('reset', r);
          loud('1;33', `RESET (${r.reason}): ${r.message}`);
        });
        es.addEventListener(CONTROL.heartbeat, (m) => {
          if (!flags.heartbeats) return;
          if (flags.json) control('heartbeat', JSON.parse(m.data));
          else note(`heartbeat ${m.data}`);
        });
        es.addEventListener(CONTROL.forceDisconnect, (m) => {
          const f = frame(forceDisconnectSchema, m.data, 'force_disconnect');
          if (!f) return;
          if (flags.json) control('force_disconnect', f);
          if (f.retry_ms === null) {
            if (!flags.json) loud('1;31', `DISCONNECTED by the hub (${f.reason}): ${f.message}; not reconnecting`);
            finish(EXIT.disconnected);
          } else if (!flags.json) loud('1;33', `disconnected by the hub (${f.reason}): ${f.message}; reconnecting in ${f.retry_ms} ms from #${lastId ?? 'live'}`);
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
          if (!down) note(`connection lost (${(e as { message?: string }).message ?? 'closed'}); reconnecting, will resume after #${lastId ?? 'live'}...`);
          down = true;
        });
      });
      process.exitCode = code;
      if (code !== EXIT.ok) throw new CliError('', code);
    });
}
