import { Command, Option } from 'commander';
import { newEventId } from '../client/index.ts';
import { FINAL_ACTION_STATES, type ActionRequest, type ActionStatus } from '../../shared/domains/action.ts';
import { context, call, out, usage, positiveInt, EXIT_CODES_HELP, CliError, EXIT } from './common.ts';

interface ActFlags {
  targetType: string;
  targetId: string;
  targetSeq?: number;
  store?: string;
  user?: string;
  strategy?: string;
  param: [string, unknown][];
  id?: string;
  wait?: boolean;
  waitTimeout: number;
  json?: boolean;
}

/** `--param status=served --param qty=2`: a value that reads as JSON (2, true, "x", {...}) is taken as JSON. */
function param(v: string, prev: [string, unknown][] = []): [string, unknown][] {
  const eq = v.indexOf('=');
  if (eq <= 0) throw usage(`--param must be key=value, got "${v}"`);
  const raw = v.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    /* a plain string */
  }
  return [...prev, [v.slice(0, eq), value]];
}

const describe = (s: ActionStatus) =>
  `${s.action_id}: ${s.state}${s.reason ? ` (${s.reason})` : ''}${s.error ? ` (${s.error})` : ''}${s.delivered_to.length && s.state === 'delivered' ? ` to ${s.delivered_to.join(', ')}` : ''}`;

/** `relaydesk act <name>`: ask the backend that owns a target to do something (operator or admin token). */
export function actCommand(): Command {
  return new Command('act')
    .description('request an action from the backend that owns a target (operator or admin token); --wait follows it to its outcome')
    .argument('<name>', 'action name, e.g. order.status, trading.order.cancel, mail.mark_read')
    .requiredOption('--target-type <type>', 'what the action is about, e.g. store.order')
    .requiredOption('--target-id <id>', "the target's id, e.g. the order id")
    .addOption(new Option('--target-seq <seq>', 'the event the action was taken on').argParser(positiveInt('--target-seq')))
    .option('--store <id>', "the target's store_id")
    .option('--user <id>', "the target's user_id")
    .option('--strategy <id>', "the target's strategy_id")
    .addOption(new Option('--param <key=value>', 'a parameter (repeatable; JSON values are parsed: qty=2, urgent=true)').default([]).argParser(param))
    .option('--id <action_id>', 'idempotency key (generated when omitted; repeating it requests nothing new)')
    .option('--wait', 'follow the action until the backend completes, rejects or fails it, or it times out')
    .addOption(new Option('--wait-timeout <s>', 'stop waiting after this many seconds').default(120).argParser(positiveInt('--wait-timeout')))
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
With --wait the exit code is 0 when the backend completed (or accepted, when the wait ends before it
completed), and 2 when it rejected or failed the action, or it timed out.

Examples:
  relaydesk act order.status --target-type store.order --target-id A-1 --store 12 --param status=served --wait
  relaydesk act trading.order.cancel --target-type trading.order --target-id 991 --user 7 --strategy 3 --id cancel-991
${EXIT_CODES_HELP}`,
    )
    .action(async (name: string, f: ActFlags, c: Command) => {
      const ctx = context(c);
      // The id is fixed before the first attempt, so a retried request is the same action.
      const actionId = f.id ?? newEventId('act');
      const body: ActionRequest = {
        action_id: actionId,
        name,
        target: { type: f.targetType, id: f.targetId, ...(f.targetSeq !== undefined ? { seq: f.targetSeq } : {}) },
        params: Object.fromEntries(f.param),
        ...(f.store !== undefined ? { store_id: f.store } : {}),
        ...(f.user !== undefined ? { user_id: f.user } : {}),
        ...(f.strategy !== undefined ? { strategy_id: f.strategy } : {}),
      };
      const r = await call(ctx, 'requestAction', { body });
      if (f.json) out(JSON.stringify(r));
      else out(`requested ${r.action_id} (seq ${r.seq}${r.duplicate ? ', duplicate: already requested under this id' : ''})`);
      if (!f.wait) return;

      const deadline = Date.now() + f.waitTimeout * 1000;
      let last: ActionStatus | undefined;
      for (;;) {
        const s = await call(ctx, 'getAction', { params: { action_id: r.action_id } });
        if (s.state !== last?.state) out(f.json ? JSON.stringify(s) : describe(s));
        last = s;
        if (FINAL_ACTION_STATES.includes(s.state) || Date.now() > deadline) break;
        await new Promise((res) => setTimeout(res, 250));
      }
      if (last.state === 'completed' || last.state === 'accepted') return;
      if (FINAL_ACTION_STATES.includes(last.state)) throw new CliError('', EXIT.refused);
      throw new CliError(`no answer from a backend within ${f.waitTimeout} s (still ${last.state})`, EXIT.refused);
    });
}
