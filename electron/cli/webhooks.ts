import { Command, Option } from 'commander';
import { describeScope, type TokenScope } from '../../shared/scope.ts';
import type { WebhookEndpoint } from '../../shared/webhooks.ts';
import { context, call, out, list, table, usage, EXIT_CODES_HELP, CliError, EXIT } from './common.ts';

interface AddFlags {
  type: string[];
  store: string[];
  user?: string;
  strategy: string[];
  description?: string;
  secret?: string;
  json?: boolean;
}

const health = (w: WebhookEndpoint) =>
  w.retrying ? `retrying (${w.retrying} failed; next ${w.next_attempt_at?.slice(11, 19) ?? '?'}): ${w.last_error ?? ''}` : w.last_error ? `ok (last error: ${w.last_error})` : 'ok';

/** `relaydesk webhooks add|list|remove|test|dead|retry`: webhook endpoints and dead letters (admin token required). */
export function webhooksCommand(): Command {
  const cmd = new Command('webhooks').description('send events to backends as signed webhooks (Standard Webhooks); admin token required').addHelpText('after', EXIT_CODES_HELP);

  cmd
    .command('add')
    .description('add an endpoint; it receives events published from now on; its signing secret is printed once')
    .argument('<url>', 'http(s) URL the hub POSTs to')
    .addOption(new Option('--type <patterns>', 'only these types (store.*, trading.order.cancelled; repeatable, comma-separated)').default([]).argParser(list))
    .addOption(new Option('--store <ids>', 'only events of these store_ids').default([]).argParser(list))
    .option('--user <id>', 'only events of this user_id')
    .addOption(new Option('--strategy <ids>', 'only events of these strategy_ids').default([]).argParser(list))
    .option('--description <text>', 'what this endpoint is')
    .option('--secret <whsec>', 'use this whsec_ secret instead of a generated one')
    .option('--json', "print the hub's JSON answer")
    .addHelpText(
      'after',
      `
Examples:
  relaydesk webhooks add https://kitchen.example/hooks --type 'store.*' --store 12
  relaydesk webhooks add http://127.0.0.1:9000/relaydesk --type trading.order.cancelled --user 7
${EXIT_CODES_HELP}`,
    )
    .action(async (url: string, f: AddFlags, c: Command) => {
      const scope: TokenScope = {};
      if (f.user !== undefined) scope.user_id = f.user;
      if (f.strategy.length) scope.strategy_ids = f.strategy;
      if (f.store.length) scope.store_ids = f.store;
      const body = { url, types: f.type, scope, ...(f.description ? { description: f.description } : {}), ...(f.secret ? { secret: f.secret } : {}) };
      const w = await call(context(c), 'createWebhook', { body });
      if (f.json) return out(JSON.stringify(w));
      out(`added webhook ${w.id} → ${w.url} (types: ${w.types.join(',') || 'all'}; scope: ${describeScope(w.scope)})`);
      out(`secret: ${w.secret}`);
      out('(shown once: give it to the backend, which verifies webhook-signature with it)');
    });

  cmd
    .command('list')
    .description('list endpoints with their delivery state')
    .option('--json', 'print JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (f: { json?: boolean }, c: Command) => {
      const { webhooks } = await call(context(c), 'listWebhooks');
      if (f.json) return out(JSON.stringify(webhooks));
      if (!webhooks.length) return out('no webhook endpoints');
      out(
        table([
          ['ID', 'URL', 'TYPES', 'SCOPE', 'DELIVERED', 'BEHIND', 'DEAD', 'STATE'],
          ...webhooks.map((w) => [w.id, w.url, w.types.join(',') || 'all', describeScope(w.scope), String(w.delivered), String(w.backlog), String(w.dead), health(w)]),
        ]),
      );
    });

  cmd
    .command('remove')
    .description('remove an endpoint; nothing more is sent to it')
    .argument('<id>', 'endpoint id (from webhooks list)')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id: string, _f: unknown, c: Command) => {
      if (!id.trim()) throw usage('endpoint id is required');
      await call(context(c), 'deleteWebhook', { params: { id } });
      out(`removed ${id}`);
    });

  cmd
    .command('test')
    .description('send a signed webhook.test message now and show the answer (exit 2 when it is not a 2xx)')
    .argument('<id>', 'endpoint id')
    .option('--json', 'print JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id: string, f: { json?: boolean }, c: Command) => {
      const r = await call(context(c), 'testWebhook', { params: { id } });
      if (f.json) out(JSON.stringify(r));
      else out(r.ok ? `ok: HTTP ${r.status} in ${r.duration_ms} ms (${r.webhook_id})` : `failed: ${r.error ?? `HTTP ${r.status}`} (${r.webhook_id})`);
      if (!r.ok) throw new CliError('', EXIT.refused);
    });

  cmd
    .command('dead')
    .description('list events an endpoint gave up on (the dead-letter list); --delete or --purge removes letters')
    .argument('[id]', 'only this endpoint')
    .option('--delete <seq>', "delete one dead letter of endpoint <id> (it is not redelivered)")
    .option('--purge', 'delete dead letters: with --older-than or --before, or --all for every one (of <id> when given)')
    .option('--older-than <age>', 'with --purge: letters that died more than this long ago (30m, 12h, 7d)')
    .option('--before <date-time>', 'with --purge: letters that died before this ISO 8601 instant')
    .option('--all', 'with --purge: every letter')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Dead letters also leave with their events when retention prunes the log (they could not be
redelivered any more).

Examples:
  relaydesk webhooks dead                          # every endpoint's letters
  relaydesk webhooks dead wh_4f0c… --delete 4812   # drop one
  relaydesk webhooks dead --purge --older-than 7d  # drop those older than a week
  relaydesk webhooks dead wh_4f0c… --purge --all   # empty one endpoint's list
${EXIT_CODES_HELP}`,
    )
    .action(async (id: string | undefined, f: { json?: boolean; delete?: string; purge?: boolean; olderThan?: string; before?: string; all?: boolean }, c: Command) => {
      const ctx = context(c);
      if (f.delete !== undefined) {
        if (!id) throw usage('--delete needs the endpoint id: relaydesk webhooks dead <id> --delete <seq>');
        if (f.purge) throw usage('give --delete or --purge, not both');
        const r = await call(ctx, 'deleteDeadLetter', { params: { id, seq: f.delete } });
        return out(f.json ? JSON.stringify(r) : `deleted dead letter ${f.delete} of ${id}`);
      }
      if (f.purge) {
        const chosen = [f.olderThan !== undefined, f.before !== undefined, !!f.all].filter(Boolean).length;
        if (chosen !== 1) throw usage('--purge needs exactly one of --older-than <age>, --before <date-time> or --all');
        let before = f.before;
        if (f.olderThan !== undefined) before = new Date(Date.now() - parseAge(f.olderThan)).toISOString();
        const body = { ...(id ? { endpoint_id: id } : {}), ...(before !== undefined ? { before } : { all: true }) };
        const r = await call(ctx, 'purgeDeadLetters', { body });
        return out(f.json ? JSON.stringify(r) : `deleted ${r.deleted} dead letter${r.deleted === 1 ? '' : 's'}${id ? ` of ${id}` : ''}`);
      }
      if (f.olderThan !== undefined || f.before !== undefined || f.all) throw usage('--older-than, --before and --all go with --purge');
      const { dead } = await call(ctx, 'listDeadLetters', { query: { endpoint_id: id } });
      if (f.json) return out(JSON.stringify(dead));
      if (!dead.length) return out('no dead letters');
      out(table([['ENDPOINT', 'SEQ', 'TYPE', 'ATTEMPTS', 'LAST ERROR', 'AT'], ...dead.map((d) => [d.endpoint_id, String(d.seq), d.type, String(d.attempts), d.last_error ?? '', d.dead_at.slice(0, 19)])]));
    });

  cmd
    .command('retry')
    .description('deliver a dead letter again now; on success it leaves the list')
    .argument('<id>', 'endpoint id')
    .argument('<seq>', 'event seq (from webhooks dead)')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id: string, seq: string, _f: unknown, c: Command) => {
      const r = await call(context(c), 'retryDeadLetter', { params: { id, seq } });
      out(r.ok ? `delivered ${seq}: HTTP ${r.status}` : `failed: ${r.error ?? `HTTP ${r.status}`}`);
      if (!r.ok) throw new CliError('', EXIT.refused);
    });

  return cmd;
}

/** `30m`, `12h`, `7d` (or plain seconds) in ms; a usage error names the flag otherwise. */
function parseAge(v: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(v.trim());
  if (!m) throw usage(`--older-than ${v}: use a number with s, m, h or d (30m, 12h, 7d)`);
  return Number(m[1]) * { '': 1_000, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}
