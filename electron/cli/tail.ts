import { Command, Option } from 'commander';
import type { HubEvent } from '../../shared/events.ts';
import { builtinRegistry, type DomainRegistry } from '../../shared/domains/index.ts';
import { parseEventId } from '../../shared/wire.ts';
import { stateViewOf, truncatedFields, type Snapshot } from '../../shared/state.ts';
import { context, colorEnabled, painter, list, positiveInt, EXIT, EXIT_CODES_HELP, CliError, usage, type Paint } from './common.ts';
import { followStream } from './stream.ts';

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

      const u = new URL('/v1/stream', ctx.url);
      u.searchParams.set('events', 'message');
      for (const [k, vs] of [['store_id', flags.store], ['user_id', flags.user], ['strategy_id', flags.strategy], ['type', flags.type]] as const)
        for (const v of vs) u.searchParams.append(k, v);
      if (flags.snapshot) u.searchParams.set('snapshot', 'true');
      if (flags.since !== undefined) u.searchParams.set('lastEventId', flags.since);

      let received = 0;
      const stream = followStream(ctx, u, flags.since, {
        event: (e, raw) => {
          received++;
          process.stdout.write((flags.json ? raw : formatEvent(e, paint)) + '\n');
          if (flags.limit !== undefined && received >= flags.limit) stream.stop(EXIT.ok);
        },
        connection: (c, again) => {
          if (flags.json) return control('connection', c);
          const f = Object.entries(c.filters).filter(([, v]) => v?.length).map(([k, v]) => `${k}=${(v as string[]).join(',')}`).join(' ');
          note(
            `${again ? 'reconnected' : 'connected'} to ${c.hub_id} at ${ctx.url} (head #${c.head_seq}${c.resume_from !== null ? `, resuming after #${c.resume_from}` : ', live'}${f ? `, ${f}` : ''})`,
          );
        },
        initial: (raw, id) => {
          if (flags.json) return control('initial', JSON.parse(raw));
          note(`snapshot at #${id}: ${raw.length > 400 ? raw.slice(0, 400) + '...' : raw}`);
          // A hub from before snapshot counts sends none: nothing to warn about, not a crash.
          const counts: Partial<Snapshot['counts']> = (JSON.parse(raw) as Partial<Snapshot>).counts ?? {};
          for (const f of truncatedFields(counts))
            loud(
              '1;33',
              `snapshot holds the newest ${counts[f]!.returned} of ${counts[f]!.total} ${f}${counts[f]!.truncated === 'bytes' ? ' (as many as fit in its size limit)' : ''}; GET /v1/state/${stateViewOf(f)} pages through all of them`,
            );
        },
        reset: (r) => {
          if (flags.json) return control('reset', r);
          loud('1;33', `RESET (${r.reason}): ${r.message}`);
        },
        heartbeat: (raw) => {
          if (!flags.heartbeats) return;
          if (flags.json) control('heartbeat', JSON.parse(raw));
          else note(`heartbeat ${raw}`);
        },
        forceDisconnect: (f, final, resumeFrom) => {
          if (flags.json) return control('force_disconnect', f);
          if (final) loud('1;31', `DISCONNECTED by the hub (${f.reason}): ${f.message}; not reconnecting`);
          else loud('1;33', `disconnected by the hub (${f.reason}): ${f.message}; reconnecting in ${f.retry_ms} ms from #${resumeFrom ?? 'live'}`);
        },
        lost: (message, resumeFrom) => note(`connection lost (${message}); reconnecting, will resume after #${resumeFrom ?? 'live'}...`),
        skipped: (what, problem) => loud('1;31', `skipped a ${what} frame this CLI does not understand (${problem}); is the hub the same version?`),
      });
      const code = await stream.done;
      process.exitCode = code;
      if (code !== EXIT.ok) throw new CliError('', code);
    });
}
