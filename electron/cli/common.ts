import { Command, Option } from 'commander';
import { ContractError, HubHttpError, NetworkError, callApi, type HttpOptions } from '../client/index.ts';
import type { OperationId } from '../../shared/api/routes.ts';
import type { AnswerOf } from '../../shared/api/answer.ts';

/**
 * Exit codes (also in `relaydesk --help`):
 *   0  ok
 *   1  usage: bad flags or arguments, unreadable input; serve: its --db is in use by another hub
 *   2  the hub refused the request (4xx: validation, auth, scope, not found); its error fields are printed
 *   3  the hub is unreachable or failed (network error, timeout, 5xx) after retries
 *   4  tail: the hub ended the stream and said not to reconnect (force_disconnect: token revoked, ...)
 *   130 interrupted (Ctrl-C) while a command was still working
 */
export const EXIT = { ok: 0, usage: 1, refused: 2, unreachable: 3, disconnected: 4, interrupted: 130 } as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  usage error (bad flags, arguments or input; serve: the --db file is in use by another hub)
  2  the hub refused the request (4xx); its error code, message and fields are printed
  3  the hub is unreachable, timed out or failed (5xx)
  4  tail: the hub ended the stream for good (force_disconnect without retry)
  130 interrupted

Environment:
  RELAYDESK_URL          hub address (default http://127.0.0.1:7700)
  RELAYDESK_TOKEN        token for API calls (falls back to RELAYDESK_ADMIN_TOKEN)
  NO_COLOR               disable colours`;

export const DEFAULT_URL = 'http://127.0.0.1:7700';

/** An error that knows its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export const usage = (message: string) => new CliError(message, EXIT.usage);

export interface GlobalFlags {
  url?: string;
  token?: string;
}

/** Global options, added to the root command. */
export function addGlobalOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'hub address').env('RELAYDESK_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <token>', 'API token (env RELAYDESK_TOKEN, else RELAYDESK_ADMIN_TOKEN)'));
}

export interface Ctx {
  http: HttpOptions;
  url: string;
}

/** Resolve --url/--token (flags, then env) for a subcommand. */
export function context(cmd: Command, { needToken = true } = {}): Ctx {
  const g = cmd.optsWithGlobals<GlobalFlags>();
  const url = (g.url || process.env.RELAYDESK_URL || DEFAULT_URL).replace(/\/+$/, '');
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    throw usage(`--url must be an http(s) URL, got "${url}"`);
  }
  const token = g.token || process.env.RELAYDESK_TOKEN || process.env.RELAYDESK_ADMIN_TOKEN || '';
  if (needToken && !token)
    throw usage('no token: pass --token or set RELAYDESK_TOKEN (or RELAYDESK_ADMIN_TOKEN); `relaydesk serve` prints the admin token on start');
  return { url, http: { url, token, timeoutMs: 15_000 } };
}

/** Format a hub or network error for people, and pick the exit code. */
export function describeError(err: unknown, url?: string): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof HubHttpError) {
    const lines = [`hub refused the request: ${err.status} ${err.code}: ${err.message}`];
    for (const f of err.fields) lines.push(`  ${f.path || '(request)'}: ${f.reason}`);
    if (err.status >= 500 || err.status === 429) lines[0] = `hub error: ${err.status} ${err.code}: ${err.message}`;
    return new CliError(lines.join('\n'), err.status >= 500 || err.status === 429 ? EXIT.unreachable : EXIT.refused);
  }
  // A hub whose answers this CLI does not understand: another version, or something else at --url.
  if (err instanceof ContractError) return new CliError(`${err.message}\n  is --url a RelayDesk hub of the same version as this CLI?`, EXIT.unreachable);
  if (err instanceof NetworkError)
    return new CliError(`cannot reach the hub${url ? ` at ${url}` : ''}: ${err.message}\n  is it running? (relaydesk serve, or set --url / RELAYDESK_URL)`, EXIT.unreachable);
  return new CliError((err as Error)?.message ?? String(err), EXIT.usage);
}

/** Call one operation of the API contract; the answer is checked against its schema. */
export async function call<K extends OperationId>(ctx: Ctx, id: K, init?: Parameters<typeof callApi>[2]): Promise<AnswerOf<K>> {
  try {
    return await callApi(ctx.http, id, init);
  } catch (err) {
    throw describeError(err, ctx.url);
  }
}

// -------------------------------------------------------------------------------------------- output

export function colorEnabled(stream: NodeJS.WriteStream, flag?: boolean): boolean {
  if (flag === false) return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

export type Paint = (code: string, s: string) => string;
export const painter = (on: boolean): Paint => (code, s) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

export const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : s + '\n');
export const err = (s: string): void => void process.stderr.write(s.endsWith('\n') ? s : s + '\n');

/** Repeatable and comma-separated values: `--store 1 --store 2,3`. */
export const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new CliError(`${name} must be a positive integer, got "${v}"`, EXIT.usage);
  return n;
};

/** Plain column layout. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
