import { Command, Option } from 'commander';
import { tokenRoles } from '../../shared/api.ts';
import { describeScope, type TokenScope } from '../../shared/scope.ts';
import { context, call, out, list, positiveInt, table, usage, EXIT_CODES_HELP } from './common.ts';

interface CreateFlags {
  role: string;
  label?: string;
  store: string[];
  user?: string;
  strategy: string[];
  tenant?: string;
  publishTopic: string[];
  subscribeTopic: string[];
  rateLimit?: number;
  json?: boolean;
}

/** Repeatable and taken whole: a URI or a template may hold a comma. */
const collect = (v: string, prev: string[]) => [...prev, v];

async function loginUrl(cmd: Command, id: string, json?: boolean): Promise<void> {
  const ctx = context(cmd);
  const r = await call(ctx, 'createLoginUrl', { params: { id } });
  if (json) out(JSON.stringify(r));
  else out(`${r.url}\n(one-time link; valid for ${Math.round(r.expires_in_s / 3600)} h)`);
}

/** `relaydesk login-url [token-id]`: a one-time console link (default: the bootstrap admin). */
export function loginUrlCommand(): Command {
  return new Command('login-url')
    .description('print a one-time console login link for a token (admin token required)')
    .argument('[token-id]', 'token id (default: the token you call with)')
    .option('--json', 'print JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id: string | undefined, flags: { json?: boolean }, cmd: Command) => {
      id ??= (await call(context(cmd), 'whoami')).token_id;
      return loginUrl(cmd, id, flags.json);
    });
}

export function tokensCommand(): Command {
  const tokens = new Command('tokens').description('create, list and revoke API tokens (admin token required)').addHelpText('after', EXIT_CODES_HELP);

  tokens
    .command('create')
    .description('create a token; its secret is printed once')
    .addOption(new Option('--role <role>', 'publisher (backends), subscriber (consoles, tail), operator (a subscriber that may request actions) or admin').choices(tokenRoles).makeOptionMandatory())
    .option('--label <text>', 'a name to recognise it by')
    .addOption(new Option('--store <ids>', 'limit to these store_ids (repeatable, comma-separated)').default([]).argParser(list))
    .option('--user <id>', 'limit to this user_id')
    .addOption(new Option('--strategy <ids>', 'limit to these strategy_ids').default([]).argParser(list))
    .option('--tenant <id>', 'limit to this tenant_id')
    .addOption(new Option('--publish-topic <selector>', 'may publish only topics matching these (exact, URI template like https://x/wards/{id}, or *; repeatable)').default([]).argParser(collect))
    .addOption(new Option('--subscribe-topic <selector>', 'sees only events with a topic matching these (repeatable)').default([]).argParser(collect))
    .addOption(new Option('--rate-limit <n>', 'requests per second for this token').argParser(positiveInt('--rate-limit')))
    .option('--json', 'print the hub\'s JSON answer')
    .addHelpText('after', `
Examples:
  relaydesk tokens create --role publisher --label "orders backend" --store 12
  relaydesk tokens create --role subscriber --user 1 --strategy 1,2
  relaydesk tokens create --role publisher --tenant st-marys --publish-topic 'https://example.net/wards/{id}'
  relaydesk tokens create --role subscriber --tenant st-marys --subscribe-topic 'https://example.net/wards/{id}' --subscribe-topic alarms
${EXIT_CODES_HELP}`)
    .action(async (f: CreateFlags, cmd: Command) => {
      const ctx = context(cmd);
      const scope: TokenScope = {};
      if (f.user !== undefined) scope.user_id = f.user;
      if (f.strategy.length) scope.strategy_ids = f.strategy;
      if (f.store.length) scope.store_ids = f.store;
      if (f.tenant !== undefined) scope.tenant_id = f.tenant;
      if (f.publishTopic.length) scope.publish_topics = f.publishTopic;
      if (f.subscribeTopic.length) scope.subscribe_topics = f.subscribeTopic;
      const body = { role: f.role, scope, ...(f.label ? { label: f.label } : {}), ...(f.rateLimit ? { rate_limit: f.rateLimit } : {}) };
      const t = await call(ctx, 'createToken', { body });
      if (f.json) return out(JSON.stringify(t));
      out(`created ${t.role} token ${t.id}${t.label ? ` "${t.label}"` : ''} (scope: ${describeScope(t.scope)})`);
      out(`token: ${t.token}`);
      out('(shown once; the hub keeps only a hash)');
    });

  tokens
    .command('list')
    .description('list tokens')
    .option('--all', 'include revoked tokens')
    .option('--json', 'print JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (f: { all?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      const { tokens: all } = await call(ctx, 'listTokens');
      const shown = f.all ? all : all.filter((t) => !t.revoked_at);
      if (f.json) return out(JSON.stringify(shown));
      if (!shown.length) return out('no tokens');
      out(
        table([
          ['ID', 'ROLE', 'LABEL', 'SCOPE', 'CREATED', 'LAST USED', ...(f.all ? ['REVOKED'] : [])],
          ...shown.map((t) => [t.id, t.role, t.label ?? '', describeScope(t.scope), t.created_at.slice(0, 19), t.last_used_at?.slice(0, 19) ?? '-', ...(f.all ? [t.revoked_at?.slice(0, 19) ?? '-'] : [])]),
        ]),
      );
    });

  tokens
    .command('revoke')
    .description('revoke a token; its open streams are disconnected')
    .argument('<id>', 'token id (from tokens list)')
    .option('--json', 'print JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id: string, f: { json?: boolean }, cmd: Command) => {
      if (!id.trim()) throw usage('token id is required');
      const ctx = context(cmd);
      const r = await call(ctx, 'revokeToken', { params: { id } });
      if (f.json) return out(JSON.stringify(r));
      out(`revoked ${id}; ${r.disconnected} open stream(s) disconnected`);
    });

  tokens
    .command('login-url')
    .description('print a one-time console login link for a token')
    .argument('<id>', 'token id')
    .option('--json', 'print JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id: string, f: { json?: boolean }, cmd: Command) => loginUrl(cmd, id, f.json));

  return tokens;
}
