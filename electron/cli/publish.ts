import { Command, Option } from 'commander';
import { readFileSync, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { priority as prioritySchema, MAX_BATCH, type PublishEnvelope } from '../../shared/events.ts';
import type { PublishResult } from '../../shared/api.ts';
import { postEvents, newEventId, backoffDelay, isRetryable, HubHttpError } from '../client/index.ts';
import { context, describeError, usage, out, err, positiveInt, EXIT_CODES_HELP, CliError, EXIT, type Ctx } from './common.ts';
import { fidelityProblems } from '../hub/http/json-fidelity.ts';

interface PublishFlags {
  type?: string;
  data?: string;
  store?: string;
  user?: string;
  strategy?: string;
  priority?: string;
  id?: string;
  time?: string;
  batchSize: number;
  lingerMs: number;
  retries: number;
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
}

interface Line {
  /** 1-based line (NDJSON) or array index + 1, for error messages. */
  at: number;
  env: PublishEnvelope;
}

function parseJson(text: string, where: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw usage(`${where} is not valid JSON: ${(e as Error).message}`);
  }
  // JSON.parse would quietly turn 9007199254740993 into …992 before the hub ever saw it.
  const bad = fidelityProblems(text);
  if (bad.length) throw usage(`${where}: ${bad.map((p) => `${p.path} ${p.reason}`).join('; ')}`);
  return value;
}

function fromFlags(f: PublishFlags): PublishEnvelope {
  if (!f.type) throw usage('--type is required when publishing from flags (or pass a JSON event, a file, or NDJSON on stdin)');
  const data = f.data === undefined ? {} : parseJson(f.data, '--data');
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw usage('--data must be a JSON object');
  const env: PublishEnvelope = { type: f.type, data: data as Record<string, unknown> };
  if (f.store !== undefined) env.store_id = f.store;
  if (f.user !== undefined) env.user_id = f.user;
  if (f.strategy !== undefined) env.strategy_id = f.strategy;
  if (f.priority !== undefined) env.priority = f.priority as PublishEnvelope['priority'];
  if (f.id !== undefined) env.id = f.id;
  if (f.time !== undefined) env.time = f.time;
  return env;
}

/** Flags given alongside a JSON event fill in what the event leaves out. */
function applyDefaults(env: PublishEnvelope, f: PublishFlags): PublishEnvelope {
  return {
    ...(f.store !== undefined ? { store_id: f.store } : {}),
    ...(f.user !== undefined ? { user_id: f.user } : {}),
    ...(f.strategy !== undefined ? { strategy_id: f.strategy } : {}),
    ...(f.priority !== undefined ? { priority: f.priority as PublishEnvelope['priority'] } : {}),
    ...env,
  };
}

function toLines(value: unknown, where: string): Line[] {
  const arr = Array.isArray(value) ? value : [value];
  return arr.map((v, i) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw usage(`${where}${Array.isArray(value) ? ` item ${i + 1}` : ''} must be a JSON object (an event)`);
    return { at: i + 1, env: v as PublishEnvelope };
  });
}

/** A file or argument holding JSON (object or array) or NDJSON (one event per line). */
function parseDocument(text: string, where: string): Line[] {
  const trimmed = text.trim();
  if (!trimmed) throw usage(`${where} is empty`);
  try {
    return toLines(JSON.parse(trimmed), where);
  } catch (e) {
    if (e instanceof CliError) throw e;
  }
  const lines: Line[] = [];
  text.split('\n').forEach((l, i) => {
    if (!l.trim()) return;
    const v = parseJson(l, `${where} line ${i + 1}`);
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw usage(`${where} line ${i + 1} must be a JSON object (an event)`);
    lines.push({ at: i + 1, env: v as PublishEnvelope });
  });
  return lines;
}

/** Send one batch; retry network errors, 5xx and 429 with the same ids so nothing is stored twice. */
async function sendBatch(ctx: Ctx, batch: Line[], retries: number): Promise<PublishResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await postEvents(ctx.http, batch.map((l) => l.env));
    } catch (e) {
      if (!isRetryable(e) || attempt >= retries) throw e;
      const delay = backoffDelay(attempt, { initialMs: 250, maxMs: 5_000 }, e instanceof HubHttpError ? e.retryAfterMs : null);
      err(`relaydesk: ${(e as Error).message}; retrying in ${Math.round(delay)} ms (${attempt + 1}/${retries})`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Map a batch error's "3.data.total" paths to "line 12: data.total". */
function locate(e: unknown, batch: Line[], label: string): unknown {
  if (!(e instanceof HubHttpError) || batch.length === 0) return e;
  const fields = e.fields.map((f) => {
    const m = /^(\d+)(?:\.(.*))?$/.exec(f.path);
    const line = m ? batch[Number(m[1])] : undefined;
    return line ? { path: `${label} ${line.at}: ${m![2] ?? '(event)'}`, reason: f.reason } : f;
  });
  return new HubHttpError(e.status, e.code, e.message, fields, e.retryAfterMs);
}

/**
 * Read and send concurrently: a batch goes out when it is full, or `lingerMs` after its first event
 * (so a slow `producer | relaydesk publish` still delivers promptly), in input order, one request at a time.
 */
async function pump(source: AsyncIterable<Line> | Iterable<Line>, batchSize: number, lingerMs: number, prepare: (l: Line) => Line, send: (batch: Line[]) => Promise<void>): Promise<void> {
  const pending: Line[] = [];
  let ended = false;
  const st: { failed?: { err: unknown } } = {};
  let stop = false;
  let wake: (() => void) | undefined;
  let resume: (() => void) | undefined;
  const signal = () => {
    wake?.();
    wake = undefined;
  };
  const reader = (async () => {
    try {
      for await (const l of source) {
        if (stop) return;
        pending.push(prepare(l));
        // Wake the sender for the first event of a batch (it starts the linger) and for a full batch.
        if (pending.length === 1 || pending.length >= batchSize) signal();
        // Backpressure: stop reading while several batches are waiting.
        while (pending.length >= batchSize * 4 && !stop) await new Promise<void>((r) => (resume = r));
      }
    } catch (e) {
      st.failed = { err: e };
    } finally {
      ended = true;
      signal();
    }
  })();
  try {
    for (;;) {
      if (st.failed) throw st.failed.err;
      if (pending.length >= batchSize || (ended && pending.length)) {
        await send(pending.splice(0, batchSize));
        resume?.();
        resume = undefined;
        continue;
      }
      if (ended) break;
      const more = new Promise<void>((r) => (wake = r));
      if (pending.length) {
        let t: NodeJS.Timeout | undefined;
        await Promise.race([more, new Promise<void>((r) => (t = setTimeout(r, lingerMs)))]);
        clearTimeout(t);
        if (pending.length && pending.length < batchSize && !ended && !st.failed) {
          await send(pending.splice(0, pending.length));
          resume?.();
          resume = undefined;
        }
      } else await more;
    }
  } finally {
    stop = true;
    resume?.();
    await Promise.race([reader, new Promise((r) => setTimeout(r, 0))]);
  }
}

async function* readStdin(stream: Readable): AsyncGenerator<Line> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  for await (const l of rl) {
    n++;
    if (!l.trim()) continue;
    const v = parseJson(l, `stdin line ${n}`);
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw usage(`stdin line ${n} must be a JSON object (an event)`);
    yield { at: n, env: v as PublishEnvelope };
  }
}

export function publishCommand(): Command {
  return new Command('publish')
    .description('publish events: one from flags, a JSON event/array/file, or NDJSON from stdin (sent in batches)')
    .argument('[event]', 'a JSON event or array, a .json/.ndjson file, or "-" for stdin')
    .option('-t, --type <type>', 'event type, e.g. store.order.created or x.my.thing')
    .option('-d, --data <json>', 'event data as a JSON object')
    .option('--store <id>', 'store_id (store.* events)')
    .option('--user <id>', 'user_id (trading.* and mail.* events)')
    .option('--strategy <id>', 'strategy_id (trading.* events)')
    .addOption(new Option('-p, --priority <level>', 'priority').choices(prioritySchema.options))
    .option('--id <key>', 'idempotency key (generated when omitted; re-publishing the same id is a no-op)')
    .option('--time <iso>', 'when it happened (ISO 8601)')
    .addOption(new Option('--batch-size <n>', 'events per request for files and stdin').default(500).argParser(positiveInt('--batch-size')))
    .addOption(new Option('--linger-ms <ms>', 'send a partial batch after waiting this long for it to fill').default(200).argParser(positiveInt('--linger-ms')))
    .option('-v, --verbose', 'report each stored batch on stderr')
    .addOption(new Option('--retries <n>', 'retries on network errors, 5xx and 429').default(5).argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw usage(`--retries must be a non-negative integer, got "${v}"`);
      return n;
    }))
    .option('-q, --quiet', 'print nothing on success')
    .option('--json', 'print the hub\'s results as JSON lines')
    .addHelpText(
      'after',
      `
Examples:
  relaydesk publish --type store.order.created --store 12 --priority high \\
    --data '{"order_id":"A-1","table_id":"T3","items":[{"name":"Bibimbap","quantity":2}],"total":24000}'
  relaydesk publish '{"type":"x.deploy.done","data":{"service":"api"}}'
  relaydesk publish events.ndjson
  cat events.ndjson | relaydesk publish --batch-size 1000
${EXIT_CODES_HELP}`,
    )
    .action(async (arg: string | undefined, flags: PublishFlags, cmd: Command) => {
      const ctx = context(cmd);
      if (flags.batchSize > MAX_BATCH) throw usage(`--batch-size must be at most ${MAX_BATCH}`);
      if (arg !== undefined && (flags.type !== undefined || flags.data !== undefined))
        throw usage('give either --type/--data or an event argument, not both (--store/--user/--strategy/--priority may fill in missing keys)');
      let source: AsyncIterable<Line> | Iterable<Line>;
      let label = 'line';
      if (arg === undefined && flags.type) {
        source = [{ at: 1, env: fromFlags(flags) }];
        label = 'event';
      } else if (arg === '-' || (arg === undefined && !process.stdin.isTTY)) {
        source = readStdin(process.stdin);
      } else if (arg === undefined) {
        throw usage('nothing to publish: give --type (and --data), a JSON event, a file, or pipe NDJSON to stdin');
      } else if (/^\s*[[{]/.test(arg)) {
        source = parseDocument(arg, 'argument');
        label = 'item';
      } else if (existsSync(arg)) {
        let text: string;
        try {
          text = readFileSync(arg, 'utf8');
        } catch (e) {
          throw usage(`cannot read ${arg}: ${(e as Error).message}`);
        }
        source = parseDocument(text, arg);
      } else throw usage(`"${arg}" is neither JSON nor an existing file`);

      let stored = 0;
      let duplicates = 0;
      let first: number | undefined;
      let last: number | undefined;
      const flush = async (batch: Line[]) => {
        if (!batch.length) return;
        let res: PublishResult;
        try {
          res = await sendBatch(ctx, batch, flags.retries);
        } catch (e) {
          const where = batch.length > 1 || label === 'line' ? ` (${label}s ${batch[0]!.at}-${batch[batch.length - 1]!.at}; nothing from this batch was stored)` : '';
          const ce = describeError(locate(e, batch, label), ctx.url);
          throw new CliError(`${ce.message}${where}${stored ? `\n${stored} event(s) before it were stored (seq ${first}..${last})` : ''}`, ce.exitCode);
        }
        for (const r of res.results) {
          stored++;
          if (r.duplicate) duplicates++;
          first ??= r.seq;
          last = r.seq;
          if (flags.json) out(JSON.stringify(r));
        }
        if (flags.verbose) err(`relaydesk: stored ${batch.length} (${label}s ${batch[0]!.at}-${batch[batch.length - 1]!.at})`);
      };
      try {
        await pump(
          source,
          flags.batchSize,
          flags.lingerMs,
          (l) => {
            // Every event gets its idempotency key before the first attempt: a retried batch never duplicates.
            const env = applyDefaults(l.env, flags);
            env.id ??= newEventId('cli');
            return { at: l.at, env };
          },
          flush,
        );
      } finally {
        // A refused batch ends the command; stop reading so an open pipe cannot keep the process alive.
        if (source !== undefined && !Array.isArray(source)) process.stdin.destroy();
      }
      if (stored === 0) throw new CliError('nothing to publish: the input held no events', EXIT.usage);
      if (!flags.quiet && !flags.json)
        out(stored === 1 ? `published seq ${first}${duplicates ? ' (duplicate: already stored under this id)' : ''}` : `published ${stored} events (seq ${first}..${last}${duplicates ? `, ${duplicates} duplicates` : ''})`);
    });
}
