import { Command, Option } from 'commander';
import { ACTION_STATE_GROUPS, FINAL_ACTION_STATES, actionStates, type ActionState, type ActionStatus } from '../../shared/domains/action.ts';
import { followStream } from './stream.ts';
import { context, call, out, err, list, positiveInt, table, usage, EXIT_CODES_HELP, CliError, EXIT, type Ctx } from './common.ts';

interface ListFlags {
  state: string[];
  name?: string;
  requestedBy?: string;
  mine?: boolean;
  targetType?: string;
  limit: number;
  cursor?: string;
  all?: boolean;
  json?: boolean;
  follow?: boolean;
}

/** The hub's page size bound for GET /v1/actions. */
const MAX_PAGE = 200;

/** `--state rejected,failed` or a group (`open`, `problems`), as the comma-separated list the API takes. */
export function stateFilter(values: string[]): string | undefined {
  if (!values.length) return undefined;
  const states = new Set<ActionState>();
  for (const v of values) {
    if (v in ACTION_STATE_GROUPS) for (const s of ACTION_STATE_GROUPS[v as keyof typeof ACTION_STATE_GROUPS]) states.add(s);
    else if ((actionStates as readonly string[]).includes(v)) states.add(v as ActionState);
    else throw usage(`--state ${v}: use ${actionStates.join(', ')}, or open (${ACTION_STATE_GROUPS.open.join(', ')}) or problems (${ACTION_STATE_GROUPS.problems.join(', ')})`);
  }
  return [...states].join(',');
}

/** `2026-12-02 17:20:01` (UTC, as the hub records it). */
const when = (iso: string, ms = false) => iso.slice(0, ms ? 23 : 19).replace('T', ' ');

const value = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
/** `status=served table=3`: the same form `relaydesk act --param` takes. */
const paramsText = (p: Record<string, unknown>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');

const scopeText = (a: ActionStatus) =>
  [a.store_id !== null && `store=${a.store_id}`, a.user_id !== null && `user=${a.user_id}`, a.strategy_id !== null && `strategy=${a.strategy_id}`].filter(Boolean).join(' ') || 'all';

const who = (a: ActionStatus) => a.requested_by_label ?? a.requested_by;

const what = (a: ActionStatus) => `${a.name}${Object.keys(a.params).length ? ` ${paramsText(a.params)}` : ''}`;

const target = (a: ActionStatus) => `${a.target.type} ${a.target.id}${a.target.seq !== undefined ? ` (event #${a.target.seq})` : ''}`;

/** How it ended or how far it got, with the backend's reason or error. */
export function outcomeText(a: ActionStatus): string {
  const state = a.state.replace('_', ' ');
  if (a.reason !== undefined && a.state === 'rejected') return `${state}: ${a.reason}`;
  if (a.error !== undefined && a.state === 'failed') return `${state}: ${a.error}`;
  if (a.state === 'delivered') return `${state} to ${a.delivered_to.join(', ')}`;
  return state;
}

const columns = (a: ActionStatus) => [when(a.requested_at), a.action_id, who(a), what(a), target(a), scopeText(a), outcomeText(a)];

/** The history as a table, newest first. */
export function formatActions(actions: ActionStatus[]): string {
  return table([['WHEN (UTC)', 'ACTION ID', 'WHO', 'WHAT', 'TARGET', 'SCOPE', 'OUTCOME'], ...actions.map(columns)]);
}

/** What an outcome event says beyond its type. */
function outcomeDetail(o: ActionStatus['outcomes'][number]): string {
  const d = o.data;
  switch (o.type) {
    case 'action.accepted':
      return d.message !== undefined ? value(d.message) : '';
    case 'action.rejected':
      return value(d.reason);
    case 'action.failed':
      return value(d.error);
    case 'action.completed':
      return d.result !== undefined && Object.keys(d.result as object).length ? JSON.stringify(d.result) : '';
    case 'action.timed_out':
      return `no answer in ${value(d.timeout_ms)} ms`;
    default:
      return '';
  }
}

const after = (from: string, to: string) => {
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms)) return '';
  return ms < 1_000 ? `+${ms} ms` : ms < 120_000 ? `+${(ms / 1_000).toFixed(1)} s` : `+${Math.round(ms / 60_000)} min`;
};

/** One action and everything that happened to it, oldest first. */
export function formatTimeline(a: ActionStatus): string {
  const head = [
    `action     ${a.action_id}`,
    `what       ${what(a)}`,
    `target     ${target(a)}`,
    `scope      ${scopeText(a)}`,
    `asked by   ${who(a)}${a.requested_by_label !== undefined ? ` (token ${a.requested_by})` : ''}`,
    `state      ${outcomeText(a)}`,
  ];
  const rows: string[][] = [[when(a.requested_at, true), `#${a.requested_seq}`, 'requested', `by ${who(a)}`, '']];
  // The hub knows that a webhook took the request, not when: those lines have no time.
  for (const ep of a.delivered_to) rows.push(['', '', 'delivered', `to webhook ${ep}`, '']);
  const final = a.outcomes.find((o) => FINAL_ACTION_STATES.includes(o.type.slice('action.'.length) as ActionState));
  for (const o of a.outcomes) {
    const late = final !== undefined && o.seq > final.seq;
    const detail = outcomeDetail(o);
    rows.push([when(o.at, true), `#${o.seq}`, o.type.slice('action.'.length).replace('_', ' '), `${detail}${late ? `${detail ? ' ' : ''}(after the final outcome: does not change it)` : ''}`, after(a.requested_at, o.at)]);
  }
  const tail = FINAL_ACTION_STATES.includes(a.state) ? [] : ['', `still open: no final outcome from a backend yet`];
  return [...head, '', table(rows).replace(/ +$/gm, ''), ...tail].join('\n');
}

/**
 * One page of the history: filled up to `limit` actions by following the hub's cursor, because a page
 * of a filter that matches little may come back short with a cursor (the hub looks at a bounded number
 * of requests per call).
 */
async function page(ctx: Ctx, query: Record<string, string | undefined>, limit: number, cursor: string | undefined): Promise<{ actions: ActionStatus[]; next: string | null }> {
  const actions: ActionStatus[] = [];
  let next: string | null = cursor ?? null;
  do {
    const r = await call(ctx, 'listActions', { query: { ...query, limit: String(limit - actions.length), cursor: next ?? undefined } });
    actions.push(...r.actions);
    next = r.next_cursor;
  } while (next !== null && actions.length < limit);
  return { actions, next };
}

/** Whether an action passes the list's filters (the stream brings every action of the scope). */
const matches = (a: ActionStatus, q: { state?: string; name?: string; requested_by?: string; target_type?: string }) =>
  (q.state === undefined || q.state.split(',').includes(a.state)) &&
  (q.name === undefined || a.name === q.name) &&
  (q.requested_by === undefined || a.requested_by === q.requested_by) &&
  (q.target_type === undefined || a.target.type === q.target_type);

/** How many actions --follow remembers the last printed state of (the oldest are forgotten first). */
const FOLLOW_MEMORY = 10_000;

/**
 * `--follow`: from `since` (the scope's head when the list was read, so nothing falls between), every
 * action.* event on the stream is read back as the action's whole state and printed when its state
 * moved: a new request, an acceptance, an outcome. Ends with Ctrl-C (exit 130) like `tail`.
 */
async function follow(ctx: Ctx, since: number, query: Record<string, string | undefined>, json: boolean, listed: ActionStatus[]): Promise<number> {
  const u = new URL('/v1/stream', ctx.url);
  u.searchParams.set('events', 'message');
  u.searchParams.set('type', 'action.*');
  // What the list already showed is not shown again unless it moves (the stream may replay it).
  const printed = new Map<string, ActionState>(listed.slice(0, FOLLOW_MEMORY).map((a) => [a.action_id, a.state]));
  // One read at a time, in the stream's order, so an action's lines come out in the order it moved.
  let queue = Promise.resolve();
  const show = async (actionId: string) => {
    let a: ActionStatus;
    try {
      a = await call(ctx, 'getAction', { params: { action_id: actionId } });
    } catch (e) {
      return err(`relaydesk: ${(e as Error).message}`);
    }
    if (printed.get(a.action_id) === a.state || !matches(a, query)) return;
    printed.delete(a.action_id);
    printed.set(a.action_id, a.state);
    if (printed.size > FOLLOW_MEMORY) printed.delete(printed.keys().next().value!);
    out(json ? JSON.stringify(a) : columns(a).join('  '));
  };
  const stream = followStream(ctx, u, String(since), {
    event: (e) => {
      const id = (e.data as { action_id?: unknown }).action_id;
      if (typeof id === 'string') queue = queue.then(() => show(id));
    },
    connection: (_c, again) => {
      if (!json) err(again ? 'reconnected; following again' : 'following new actions and answers (Ctrl-C to stop)');
    },
    reset: (r) => err(`the hub's log was reset (${r.reason}): ${r.message}; actions in between may be missing here: run relaydesk actions`),
    forceDisconnect: (f, final) => err(`${final ? 'disconnected by the hub for good' : 'disconnected by the hub; reconnecting'} (${f.reason}): ${f.message}`),
    lost: (message) => err(`connection lost (${message}); reconnecting...`),
    skipped: (what, problem) => err(`skipped a ${what} frame this CLI does not understand (${problem}); is the hub the same version?`),
  });
  const code = await stream.done;
  await queue;
  return code;
}

/** `relaydesk actions [list]` and `relaydesk actions show <action_id>`: the action history. */
export function actionsCommand(): Command {
  const cmd = new Command('actions')
    .description('the action history: who asked which backend to do what, and how it ended (any token but a publisher\'s)')
    .addHelpText(
      'after',
      `
Without a command, lists (the same as \`actions list\`); \`relaydesk actions list --help\` shows its
filters (--state, --name, --requested-by, --mine, --target-type) and paging (--limit, --cursor, --all).

Examples:
  relaydesk actions --state problems
  relaydesk actions show bump-A-1-served
${EXIT_CODES_HELP}`,
    );

  cmd
    .command('list', { isDefault: true })
    .description('actions in the token\'s scope, newest first, with who asked, what, on what, when and the outcome')
    .addOption(
      new Option('--state <states>', `only actions in these states (${actionStates.join(', ')}; open, problems; repeatable, comma-separated)`).default([]).argParser(list),
    )
    .option('--name <name>', 'only this action, e.g. order.status')
    .option('--requested-by <token_id>', 'only what this token asked')
    .option('--mine', 'only what the token in use (--token) asked')
    .option('--target-type <type>', 'only actions about this kind of target, e.g. store.order')
    .addOption(new Option('-n, --limit <n>', `actions per page (1-${MAX_PAGE})`).default(50).argParser(positiveInt('--limit')))
    .option('--cursor <cursor>', 'continue after a previous page (the cursor it printed)')
    .option('--all', 'follow the cursor to the oldest action')
    .option('--json', 'one JSON action per line (as GET /v1/actions/<id> answers); the next cursor goes to stderr as JSON')
    .option('--follow', 'after the list, print actions as they are asked and answered, live (Ctrl-C to stop)')
    .addHelpText(
      'after',
      `
The hub's times are UTC. Without --all one page is printed; when there are older actions the
command says how to continue (--cursor).

Examples:
  relaydesk actions
  relaydesk actions --state problems --name order.status
  relaydesk actions --mine --limit 20
  relaydesk actions --all --json | jq -r 'select(.state == "timed_out") | .action_id'
  relaydesk actions --follow --state problems       # refusals and failures as they happen
  relaydesk actions show bump-A-1-served
${EXIT_CODES_HELP}`,
    )
    .action(async (f: ListFlags, c: Command) => {
      if (f.limit > MAX_PAGE) throw usage(`--limit must be at most ${MAX_PAGE}, got ${f.limit}`);
      if (f.cursor !== undefined && !/^\d{1,15}$/.test(f.cursor)) throw usage(`--cursor must be a cursor this command printed, got "${f.cursor}"`);
      if (f.mine && f.requestedBy !== undefined) throw usage('give --mine or --requested-by, not both');
      if (f.all && f.cursor !== undefined) throw usage('give --all or --cursor, not both (--all starts at the newest)');
      if (f.follow && f.cursor !== undefined) throw usage('--follow starts at the newest actions; it does not take --cursor');
      const ctx = context(c);
      const state = stateFilter(f.state);
      // Read before the list: --follow resumes the stream from this head, so nothing falls between.
      const me = f.mine || f.follow ? await call(ctx, 'whoami') : null;
      const requestedBy = f.mine ? me!.token_id : f.requestedBy;
      const query = { state, name: f.name, requested_by: requestedBy, target_type: f.targetType };
      const filtered = Object.values(query).some((v) => v !== undefined);

      const shown: ActionStatus[] = [];
      const listed: ActionStatus[] = [];
      let cursor = f.cursor;
      for (;;) {
        const p = await page(ctx, query, f.limit, cursor);
        // JSON lines go out page by page (a long history is never held whole); the table needs every row for its widths.
        if (f.json) for (const a of p.actions) out(JSON.stringify(a));
        else shown.push(...p.actions);
        if (f.follow && listed.length < FOLLOW_MEMORY) listed.push(...p.actions);
        if (p.next === null || !f.all) {
          if (!f.json) out(shown.length ? formatActions(shown) : `no actions${filtered ? ' match these filters' : ''}${f.cursor !== undefined ? ' before this cursor' : ''}`);
          if (p.next !== null && !f.follow) {
            if (f.json) err(JSON.stringify({ next_cursor: p.next }));
            else err(`older actions: add --cursor ${p.next} (or --all)`);
          }
          if (!f.follow) return;
          const code = await follow(ctx, me!.head_seq, query, !!f.json, listed);
          process.exitCode = code;
          if (code !== EXIT.ok) throw new CliError('', code);
          return;
        }
        cursor = p.next;
      }
    });

  cmd
    .command('show')
    .description('one action\'s timeline: the request, its delivery, and every outcome a backend sent')
    .argument('<action_id>', 'the action id (from actions list, or act\'s output)')
    .option('--json', 'print the hub\'s JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (actionId: string, f: { json?: boolean }, c: Command) => {
      if (!actionId.trim()) throw usage('the action id is required');
      const a = await call(context(c), 'getAction', { params: { action_id: actionId } });
      out(f.json ? JSON.stringify(a) : formatTimeline(a));
    });

  return cmd;
}
