import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { startTestHub, api, createToken, until, ADMIN, type TestHub, allEvents, freePort, publish } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import { sample } from '../helpers/events.ts';
import { SNAPSHOT_CAPS } from '../../shared/state.ts';

const BIN = resolve(import.meta.dirname, '../../bin/relaydesk.js');


interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A spawned `relaydesk` process, as a user would run it. */
/** Every CLI process a test started; one a failed test left running must not hold the shared hub's streams. */
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

function start(args: string[], env: Record<string, string | undefined> = {}): { child: ChildProcess; result: Promise<Run>; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', RELAYDESK_URL: undefined, RELAYDESK_TOKEN: undefined, RELAYDESK_ADMIN_TOKEN: undefined, ...env } as NodeJS.ProcessEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const result = new Promise<Run>((res) => child.on('close', (code) => res({ code, stdout, stderr })));
  return { child, result, stdout: () => stdout, stderr: () => stderr };
}

async function run(args: string[], opts: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number } = {}): Promise<Run> {
  const p = start(args, opts.env);
  if (opts.input !== undefined) p.child.stdin!.end(opts.input);
  else p.child.stdin!.end();
  const timer = setTimeout(() => p.child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  try {
    return await p.result;
  } finally {
    clearTimeout(timer);
  }
}


let t: TestHub;
let env: Record<string, string>;

beforeAll(async () => {
  t = await startTestHub();
  env = { RELAYDESK_URL: t.url, RELAYDESK_ADMIN_TOKEN: ADMIN };
});
afterAll(async () => {
  await t?.stop();
});

describe('relaydesk CLI: help and usage', () => {
  it('--help works on every command and documents exit codes', async () => {
    for (const cmd of [[], ['publish'], ['tail'], ['tokens'], ['tokens', 'create'], ['stats'], ['login-url'], ['serve'], ['actions'], ['actions', 'list'], ['actions', 'show']]) {
      const r = await run([...cmd, '--help']);
      expect(r.code, `${cmd.join(' ')} --help`).toBe(0);
      expect(r.stdout).toContain('Usage: relaydesk');
    }
    const root = await run(['--help']);
    expect(root.stdout).toMatch(/Exit codes:[\s\S]*2 +the hub refused/);
    for (const c of ['serve', 'publish', 'tail', 'tokens', 'stats', 'login-url', 'act', 'actions']) expect(root.stdout).toContain(c);
    // Thirteen CLI starts in a row; on a loaded two-core runner one start can take several seconds.
  }, 240_000);

  it('usage errors exit 1 with a clear message', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown command/);
    const badJson = await run(['publish', '--type', 'x.demo.thing', '--data', '{nope'], { env });
    expect(badJson.code).toBe(1);
    expect(badJson.stderr).toContain('--data is not valid JSON');
    // A number JSON.parse would change is refused before sending, naming it, not sent altered.
    const inexact = await run(['publish', '--type', 'x.demo.thing', '--data', '{"n":{"big":9007199254740993}}'], { env });
    expect(inexact.code).toBe(1);
    expect(inexact.stderr).toMatch(/--data: n\.big number 9007199254740993 cannot be stored exactly/);
    const noToken = await run(['stats'], { env: { RELAYDESK_URL: t.url } });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('no token');
    const badPriority = await run(['publish', '--type', 'x.a.b', '--priority', 'extreme'], { env });
    expect(badPriority.code).toBe(1);
    expect(badPriority.stderr).toMatch(/Allowed choices are low, normal, high, urgent/);
  });
});

describe('relaydesk publish', () => {
  it('publishes one event from flags; the same --id twice is stored once', async () => {
    const data = JSON.stringify({ order_id: 'cli-1', table_id: 'T2', items: [{ name: 'Bibimbap', quantity: 2, price: 12000 }], total: 24000 });
    const args = ['publish', '--type', 'store.order.created', '--store', '12', '--priority', 'high', '--data', data, '--id', 'cli-flag-1'];
    const r = await run(args, { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^published seq \d+\n$/);
    const again = await run(args, { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('duplicate');
    const stored = (await allEvents(t.url)).filter((e) => e.id === 'cli-flag-1');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ type: 'store.order.created', store_id: '12', priority: 'high', data: { order_id: 'cli-1', total: 24000 } });
  });

  it('publishes a JSON argument and a file', async () => {
    const r = await run(['publish', '--json', JSON.stringify([{ type: 'x.deploy.done', data: { service: 'api' } }, { type: 'x.deploy.done', data: { service: 'web' } }])], { env });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[1].seq).toBe(lines[0].seq + 1);
    const dir = mkdtempSync(join(tmpdir(), 'relaydesk-cli-'));
    try {
      const file = join(dir, 'events.ndjson');
      writeFileSync(file, [sample.mail(7), sample.position(1, 2)].map((e) => JSON.stringify(e)).join('\n') + '\n');
      const f = await run(['publish', file], { env });
      expect(f.code).toBe(0);
      expect(f.stdout).toMatch(/published 2 events \(seq \d+\.\.\d+\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('publishes NDJSON from stdin in batches, all of it exactly once', async () => {
    const before = (await api(t.url, '/v1/stats')).body.head_seq as number;
    const n = 1234;
    const input = Array.from({ length: n }, (_, i) => JSON.stringify(sample.storeOrder(77, { id: `stdin-${i}` }))).join('\n') + '\n';
    const pub = await createToken(t.url, 'publisher', { store_ids: ['77'] }, 'cli stdin');
    const r = await run(['publish', '--batch-size', '500', '--token', pub], { env: { RELAYDESK_URL: t.url }, input });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`published ${n} events \\(seq ${before + 1}\\.\\.${before + n}\\)`));
    const stored = (await allEvents(t.url)).filter((e) => e.store_id === '77');
    expect(stored).toHaveLength(n);
    expect(new Set(stored.map((e) => e.id)).size).toBe(n);
    expect(stored.map((e) => e.id)).toEqual(Array.from({ length: n }, (_, i) => `stdin-${i}`));
  });

  it('streams stdin: a pause sends a partial batch promptly, and a hub restart mid-stream loses and duplicates nothing', async () => {
    const p = start(['publish', '--batch-size', '100', '--linger-ms', '100', '--verbose'], env);
    const line = (i: number) => JSON.stringify(sample.storeOrder(88, { data: { order_id: `s-${i}`, items: [{ name: 'Soju', quantity: 1 }], total: 5000 } })) + '\n';
    const stored88 = async () => (await allEvents(t.url)).filter((e) => e.store_id === '88');
    p.child.stdin!.write([0, 1, 2].map(line).join(''));
    // Delivered while stdin is still open: the linger flushed the partial batch.
    // The bound includes the CLI's own start-up; what matters is that it comes before EOF, not how fast.
    await until(async () => (await stored88()).length === 3, 'partial batch stored before EOF', 60_000);
    for (let i = 3; i < 250; i++) p.child.stdin!.write(line(i));
    await until(() => p.stderr().includes('stored'), 'some batches stored');
    await t.restart();
    for (let i = 250; i < 500; i++) p.child.stdin!.write(line(i));
    p.child.stdin!.end();
    const r = await p.result;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/published 500 events/);
    const stored = await stored88();
    expect(stored.map((e) => e.data.order_id)).toEqual(Array.from({ length: 500 }, (_, i) => `s-${i}`));
  }, 180_000);

  it('a refused event exits 2 and prints the hub\'s error fields with the line number', async () => {
    const good = JSON.stringify(sample.storeOrder(12));
    const bad = JSON.stringify({ type: 'store.order.created', store_id: 12, data: { order_id: 'x', items: [] } });
    const r = await run(['publish'], { env, input: `${good}\n${bad}\n` });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('hub refused the request: 422 validation_failed');
    expect(r.stderr).toMatch(/line 2: data\.items: /);
    expect(r.stderr).toMatch(/line 2: data\.total: /);
    expect(r.stderr).toContain('nothing from this batch was stored');

    const unknown = await run(['publish', '--type', 'store.order.shipped', '--store', '1', '--data', '{}'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/event 1: type: unknown store event type; known: store\.order\.created/);

    const missingScope = await run(['publish', '--type', 'mail.email.new', '--data', '{"email_id":1,"from":"a@b.c","subject":"hi"}'], { env });
    expect(missingScope.code).toBe(2);
    expect(missingScope.stderr).toContain('user_id: required for mail.* events');
  });

  it('auth and scope refusals exit 2; an unreachable hub exits 3', async () => {
    const bad = await run(['publish', '--type', 'x.a.b', '--token', 'nope'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('401 unauthorized: token is unknown or revoked');
    const pub = await createToken(t.url, 'publisher', { store_ids: ['5'] });
    const outside = await run(['publish', '--token', pub, JSON.stringify(sample.storeOrder(6))], { env });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/403 forbidden[\s\S]*store_id: outside this token's scope \(6\)/);
    const sub = await createToken(t.url, 'subscriber');
    const wrongRole = await run(['stats', '--token', sub], { env });
    expect(wrongRole.code).toBe(2);
    expect(wrongRole.stderr).toContain('a subscriber token cannot read hub stats');

    const dead = `http://127.0.0.1:${await freePort()}`;
    const down = await run(['publish', '--retries', '1', '--type', 'x.a.b', '--url', dead], { env });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/retrying in \d+ ms \(1\/1\)/);
    expect(down.stderr).toContain(`cannot reach the hub at ${dead}: `);
    expect(down.stderr).toContain('ECONNREFUSED');
    const statsDown = await run(['stats', '--url', dead], { env });
    expect(statsDown.code).toBe(3);
  });
});

describe('relaydesk tokens, stats, login-url', () => {
  it('creates, lists and revokes tokens', async () => {
    const c = await run(['tokens', 'create', '--role', 'subscriber', '--label', 'night shift', '--user', '1', '--strategy', '1,2'], { env });
    expect(c.code).toBe(0);
    const id = /token (tok_\w+)/.exec(c.stdout)![1]!;
    const secret = /^token: (\S+)$/m.exec(c.stdout)![1]!;
    expect(c.stdout).toContain('scope: user=1 strategies=1,2');
    expect((await api(t.url, '/v1/whoami', { token: secret })).body.token_id).toBe(id);

    const l = await run(['tokens', 'list'], { env });
    expect(l.code).toBe(0);
    expect(l.stdout).toMatch(new RegExp(`${id} +subscriber +night shift +user=1 strategies=1,2`));
    const lj = await run(['tokens', 'list', '--json'], { env });
    expect(JSON.parse(lj.stdout).map((x: any) => x.id)).toContain(id);

    const r = await run(['tokens', 'revoke', id], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`revoked ${id}; 0 open stream(s) disconnected`);
    expect((await api(t.url, '/v1/whoami', { token: secret })).status).toBe(401);
    expect((await run(['tokens', 'list'], { env })).stdout).not.toContain(id);
    expect((await run(['tokens', 'list', '--all'], { env })).stdout).toContain(id);

    const missing = await run(['tokens', 'revoke', 'tok_nope'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('404 not_found: no token tok_nope');
    const noRole = await run(['tokens', 'create'], { env });
    expect(noRole.code).toBe(1);
    expect(noRole.stderr).toContain("required option '--role <role>' not specified");
  });

  it('creates tokens scoped to a tenant and topic selectors, publish and subscribe apart', async () => {
    const c = await run(
      ['tokens', 'create', '--role', 'subscriber', '--tenant', 'st-marys', '--subscribe-topic', 'https://example.net/wards/{id}', '--subscribe-topic', 'a,b', '--json'],
      { env },
    );
    expect(c.code).toBe(0);
    const made = JSON.parse(c.stdout);
    // Taken whole: a selector may hold a comma.
    expect(made.scope).toEqual({ tenant_id: 'st-marys', subscribe_topics: ['https://example.net/wards/{id}', 'a,b'] });
    const p = await run(['tokens', 'create', '--role', 'publisher', '--tenant', 'st-marys', '--publish-topic', 'https://example.net/wards/{id}'], { env });
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('scope: tenant=st-marys publish_topics=https://example.net/wards/{id}');
    const pub = /^token: (\S+)$/m.exec(p.stdout)![1]!;
    const ok = await api(t.url, '/v1/events', { token: pub, body: { type: 'x.ward.note', tenant_id: 'st-marys', topics: ['https://example.net/wards/3'], data: {} } });
    expect(ok.status).toBe(201);
    const bad = await run(['tokens', 'create', '--role', 'subscriber', '--subscribe-topic', 'wards/{id'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('scope.subscribe_topics.0');
  });

  it('prints stats and login links', async () => {
    const s = await run(['stats'], { env });
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^hub +hub-/m);
    expect(s.stdout).toMatch(/^log +seq 1\.\.\d+/m);
    const j = await run(['stats', '--json'], { env });
    expect(JSON.parse(j.stdout)).toMatchObject({ hub_id: t.hub.hubId, bus: { engine: 'local' } });
    const u = await run(['login-url'], { env });
    expect(u.code).toBe(0);
    expect(u.stdout).toMatch(new RegExp(`^${t.url.replace(/[.]/g, '\\.')}/auth/exchange\\?code=\\S+`, 'm'));
    const pub = await createToken(t.url, 'publisher');
    const id = (await api(t.url, '/v1/whoami', { token: pub })).body.token_id;
    const u2 = await run(['tokens', 'login-url', id, '--json'], { env });
    expect(JSON.parse(u2.stdout).url).toContain('/auth/exchange?code=');
  });
});

describe('relaydesk tail', () => {
  it('prints filtered events and exits after --limit', async () => {
    const p = start(['tail', '--json', '--limit', '3', '--type', 'store.*', '--store', '31'], env);
    await until(() => p.stderr().includes('"control":"connection"'), 'tail connected');
    await api(t.url, '/v1/events', { body: [sample.mail(1), sample.storeOrder(32), sample.storeOrder(31), sample.storeOrder(31, { priority: 'urgent' }), sample.storeOrder(31), sample.storeOrder(31)] });
    const r = await p.result;
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events).toHaveLength(3);
    expect(events.every((e) => e.store_id === '31' && e.type === 'store.order.created')).toBe(true);
    expect(events[1].priority).toBe('urgent');
  });

  it('human mode: one readable line per event, no colour codes when NO_COLOR or piped', async () => {
    const p = start(['tail', '--limit', '2', '--user', '9'], env);
    await until(() => p.stderr().includes('connected to'), 'tail connected');
    await api(t.url, '/v1/events', { body: [sample.mail(9, { priority: 'high' }), sample.tradingOrder(9, 4)] });
    const r = await p.result;
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    // The same one-line summaries as the console's live view (shared/domains).
    expect(lines[0]).toMatch(/#\d+ mail\.email\.new \[HIGH\] user=9 +supplier@example\.com: Invoice$/);
    expect(lines[1]).toMatch(/trading\.order\.created user=9 strategy=4 +BUY 0\.01 BTC\/USDT LIMIT @ 95000 · NEW · BINANCE \(order t-\S+\)$/);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stderr).toMatch(/connected to hub-\S+ at http/);
  });

  it('colours by domain and priority when asked (FORCE_COLOR), and NO_COLOR wins', async () => {
    const coloured = start(['tail', '--limit', '1', '--store', '61'], { ...env, NO_COLOR: undefined, FORCE_COLOR: '1' });
    await until(() => coloured.stderr().includes('connected to'), 'tail connected');
    await api(t.url, '/v1/events', { body: [sample.storeOrder(61, { priority: 'urgent' })] });
    const r = await coloured.result;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\x1b[36mstore.order.created\x1b[0m');
    expect(r.stdout).toContain('\x1b[1;31m[URGENT]\x1b[0m');
    const plain = start(['tail', '--limit', '1', '--store', '62'], { ...env, NO_COLOR: '1', FORCE_COLOR: '1' });
    await until(() => plain.stderr().includes('connected to'), 'tail connected');
    await api(t.url, '/v1/events', { body: [sample.storeOrder(62, { priority: 'urgent' })] });
    expect((await plain.result).stdout).not.toContain('\x1b[');
  });

  it('--snapshot says when the hub cut a list at its snapshot cap, and where the rest is', async () => {
    const small = await startTestHub({ snapshotCaps: { ...SNAPSHOT_CAPS, store_order: 2 } });
    try {
      await api(small.url, '/v1/events', { body: [sample.storeOrder(71), sample.storeOrder(71), sample.storeOrder(71)] });
      const p = start(['tail', '--snapshot', '--limit', '1', '--store', '71'], { RELAYDESK_URL: small.url, RELAYDESK_ADMIN_TOKEN: ADMIN });
      await until(() => p.stderr().includes('snapshot holds'), 'snapshot note');
      await api(small.url, '/v1/events', { body: [sample.storeOrder(71)] });
      const r = await p.result;
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('snapshot holds the newest 2 of 3 store_orders; GET /v1/state/orders pages through all of them');
      expect(r.stderr.match(/snapshot holds/g)).toHaveLength(1);
    } finally {
      await small.stop();
    }
  });

  it('resumes by Last-Event-ID after the hub restarts: nothing lost, nothing twice', async () => {
    const sub = await createToken(t.url, 'subscriber', { store_ids: ['41'] });
    const p = start(['tail', '--json', '--limit', '6', '--token', sub], { RELAYDESK_URL: t.url });
    await until(() => p.stderr().includes('"control":"connection"'), 'tail connected');
    const ids = Array.from({ length: 6 }, (_, i) => `resume-${i}`);
    await api(t.url, '/v1/events', { body: ids.slice(0, 2).map((id) => sample.storeOrder(41, { id })) });
    await until(() => p.stdout().trim().split('\n').filter(Boolean).length >= 2, 'first two events');
    await t.restart();
    // Published while the tail is away (it waits for the hub's retry hint before reconnecting).
    await api(t.url, '/v1/events', { body: ids.slice(2, 4).map((id) => sample.storeOrder(41, { id })) });
    await until(() => (p.stderr().match(/"control":"connection"/g) ?? []).length >= 2, 'tail reconnected', 15_000);
    await api(t.url, '/v1/events', { body: ids.slice(4).map((id) => sample.storeOrder(41, { id })) });
    const r = await p.result;
    expect(r.code).toBe(0);
    const got = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(got.map((e) => e.id)).toEqual(ids);
    expect(r.stderr).toMatch(/"control":"force_disconnect","data":\{"reason":"shutdown"/);
    const second = r.stderr.split('\n').filter((l) => l.includes('"control":"connection"'))[1]!;
    expect(JSON.parse(second).data.resume_from).toBe(got[1].seq);
  });

  it('resumes with the whole event id: a hub whose database was replaced answers reset epoch_changed', async () => {
    // The replacement log holds more events than the tail saw, so a seq alone looks resumable there.
    const other = await startTestHub();
    await api(other.url, '/v1/events', { body: Array.from({ length: 4 }, () => sample.storeOrder(81)) });
    await other.hub.close();
    const first = await startTestHub();
    let replaced: TestHub | undefined;
    const p = start(['tail', '--json', '--store', '81'], { RELAYDESK_URL: first.url, RELAYDESK_ADMIN_TOKEN: ADMIN });
    try {
      await until(() => p.stderr().includes('"control":"connection"'), 'tail connected');
      const epoch = JSON.parse(p.stderr().split('\n').find((l) => l.includes('"control":"connection"'))!).data.epoch as string;
      expect(epoch).toBe(first.hub.log.epochs.current);
      await api(first.url, '/v1/events', { body: [sample.storeOrder(81), sample.storeOrder(81)] });
      await until(() => p.stdout().trim().split('\n').filter(Boolean).length >= 2, 'two events');
      const port = first.hub.port;
      await first.hub.close();
      replaced = await startTestHub({ dbFile: other.dbFile, port });
      await until(() => p.stderr().includes('"control":"reset"'), 'reset after the reconnect', 15_000);
      const reset = JSON.parse(p.stderr().split('\n').find((l) => l.includes('"control":"reset"'))!).data;
      expect(reset).toMatchObject({ reason: 'epoch_changed', requested: 2, requested_epoch: epoch, epoch: replaced.hub.log.epochs.current, head_seq: 4 });
    } finally {
      p.child.kill('SIGINT');
      await p.result;
      await replaced?.stop();
      await first.stop();
      await other.stop();
    }
  });

  it('keeps reconnecting through a 503 from a restarting hub, resuming after the last id', async () => {
    // A scripted hub: stream, then "503 shutting_down" once, then stream again.
    const seen: (string | undefined)[] = [];
    const conn = (head: number) =>
      `retry: 100\n\nevent: connection\ndata: ${JSON.stringify({ connection_id: 'c', hub_id: 'hub-fake', head_seq: head, oldest_seq: 1, resume_from: null, scope: {}, filters: {}, heartbeat_ms: 15000, server_time: new Date().toISOString() })}\n\n`;
    // A whole event as a hub sends it: tail checks frames against the wire schemas.
    const at = new Date().toISOString();
    const ev = (seq: number) =>
      `id: ${seq}\ndata: ${JSON.stringify({ ...sample.storeOrder('1'), seq, id: `e${seq}`, user_id: null, strategy_id: null, priority: 'normal', time: at, received_at: at })}\n\n`;
    const srv = createHttpServer((req, res) => {
      seen.push(req.headers['last-event-id'] as string | undefined);
      if (seen.length === 2) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        return res.end(JSON.stringify({ error: { status: 503, code: 'shutting_down', message: 'the hub is shutting down' } }));
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (seen.length === 1) res.end(conn(4) + ev(5));
      else res.write(conn(6) + ev(6));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
      const r = await run(['tail', '--json', '--limit', '2', '--url', url, '--token', 'x'], { timeoutMs: 15_000 });
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([5, 6]);
      expect(seen.slice(0, 3)).toEqual([undefined, '5', '5']);
    } finally {
      srv.closeAllConnections();
      srv.close();
    }
  });

  it('replays from --since and shows a reset clearly', async () => {
    const head = (await api(t.url, '/v1/stats')).body.head_seq as number;
    await api(t.url, '/v1/events', { body: [sample.storeOrder(51), sample.storeOrder(51)] });
    const r = await run(['tail', '--since', String(head), '--store', '51', '--limit', '2', '--json'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([head + 1, head + 2]);
    const ahead = start(['tail', '--since', String(head + 1_000_000)], env);
    await until(() => ahead.stderr().includes('RESET'), 'reset shown');
    expect(ahead.stderr()).toMatch(/RESET \(ahead_of_log\): Last-Event-ID \d+ is ahead of this hub's log/);
    ahead.child.kill('SIGINT');
    expect((await ahead.result).code).toBe(130);
  });

  it('a revoked token ends the tail with a clear message and exit 4; refused streams exit 2; no hub exits 3', async () => {
    const r = await api(t.url, '/v1/tokens', { body: { role: 'subscriber', scope: {} } });
    const p = start(['tail', '--token', r.body.token], { RELAYDESK_URL: t.url });
    await until(() => p.stderr().includes('connected to'), 'tail connected');
    await api(t.url, `/v1/tokens/${r.body.id}`, { method: 'DELETE' });
    const res = await p.result;
    expect(res.code).toBe(4);
    expect(res.stderr).toContain('DISCONNECTED by the hub (token_revoked): this token was revoked; not reconnecting');

    const scoped = await createToken(t.url, 'subscriber', { store_ids: ['1'] });
    const refused = await run(['tail', '--token', scoped, '--store', '2'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/403 forbidden: store_id 2 is outside this token's scope/);

    const dead = `http://127.0.0.1:${await freePort()}`;
    const down = await run(['tail', '--url', dead], { env });
    expect(down.code).toBe(3);
    expect(down.stderr).toContain(`cannot reach the hub at ${dead}`);
  });
});

describe('relaydesk serve --demo', () => {
  it('starts a hub on port 0 whose demo publishes every domain through the API, and stops cleanly on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaydesk-serve-'));
    const p = start(['serve', '--port', '0', '--db', join(dir, 'hub.db'), '--demo', '--demo-rate', '8', '--log-level', 'warn'], { RELAYDESK_ADMIN_TOKEN: 'serve-admin' });
    let sub: Subscriber | undefined;
    try {
      const url = (await until(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(p.stdout())?.[1], 'serve to print its URL', 20_000))!;
      await until(() => p.stdout().includes('demo: publishing'), 'demo started');
      sub = new Subscriber(url, { lastEventId: '0' }, 'serve-admin');
      const seen = await until(
        () => {
          const types = new Set(sub!.events.map((e) => e.type));
          return ['store.order.created', 'store.order.updated', 'trading.order.created', 'trading.order.filled', 'mail.email.new', 'mail.email.classified'].every((x) => types.has(x)) && types;
        },
        'events of every domain',
        25_000,
        100,
      );
      expect((seen as Set<string>).size).toBeGreaterThanOrEqual(6);
      // Published through the public API under the demo's own publisher token.
      const tokens = (await api(url, '/v1/tokens', { token: 'serve-admin' })).body.tokens;
      expect(tokens.some((x: any) => x.label === 'demo publishers' && x.role === 'publisher' && !x.revoked_at)).toBe(true);
      p.child.kill('SIGINT');
      const r = await p.result;
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('SIGINT: stopping');
      expect(r.stdout).toMatch(/demo: stopped after \d+ events/);
    } finally {
      sub?.close();
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops cleanly on a SIGTERM sent the moment it prints its console link, while the demo is still starting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaydesk-serve-'));
    const db = join(dir, 'hub.db');
    const p = start(['serve', '--port', '0', '--db', db, '--demo', '--log-level', 'warn'], { RELAYDESK_ADMIN_TOKEN: 'serve-admin' });
    try {
      await until(() => /^Console: /m.test(p.stdout()), 'serve to print its console link', 20_000, 1);
      p.child.kill('SIGTERM');
      const r = await p.result;
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('SIGTERM: stopping');
      // The log was closed and its claim released: the next hub on the file starts at once.
      const next = start(['serve', '--port', '0', '--db', db, '--log-level', 'warn'], { RELAYDESK_ADMIN_TOKEN: 'serve-admin' });
      await until(() => /listening on/.test(next.stdout()), 'the next hub on the same file', 20_000);
      next.child.kill('SIGTERM');
      expect((await next.result).code).toBe(0);
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('relaydesk serve on a database another hub holds', () => {
  it('exits 1 naming the file and the holder (pid, URL), and the holder keeps serving', async () => {
    const r = await run(['serve', '--port', '0', '--db', t.dbFile]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`relaydesk: database ${t.dbFile} is in use by another RelayDesk hub (pid ${process.pid}, ${t.url}); stop it or pass --db for a separate log\n`);
    expect((await api(t.url, '/v1/events', { body: sample.storeOrder(12) })).status).toBe(201);
  });
});

describe('relaydesk webhooks', () => {
  it('add, list, test, dead, remove: a backend gets signed events and the CLI shows how it goes', async () => {
    const { WebhookReceiver } = await import('../helpers/webhook-receiver.ts');
    const rx = new WebhookReceiver('whsec_' + Buffer.alloc(32, 7).toString('base64'));
    await rx.listen();
    try {
      const added = await run(['webhooks', 'add', rx.url, '--type', 'store.*', '--store', '12', '--description', 'kitchen'], { env });
      expect(added.code, added.stderr).toBe(0);
      const id = /added webhook (wh_\w+)/.exec(added.stdout)![1]!;
      rx.setSecret(/secret: (whsec_\S+)/.exec(added.stdout)![1]!);
      expect(added.stdout).toContain('types: store.*; scope: stores=12');

      const test = await run(['webhooks', 'test', id], { env });
      expect(test.code, test.stderr).toBe(0);
      expect(test.stdout).toMatch(/^ok: HTTP 200/);
      expect(rx.applied[0]).toMatchObject({ type: 'webhook.test' });

      await api(t.url, '/v1/events', { body: sample.storeOrder(12, { id: 'cli-wh-1' }) });
      await until(() => rx.applied.some((a) => (a.data as { id?: string }).id === 'cli-wh-1'), 'the event delivered');
      const listed = await run(['webhooks', 'list'], { env });
      expect(listed.stdout).toMatch(new RegExp(`${id}\\s+${rx.url.replace(/[/.]/g, '\\$&')}\\s+store\\.\\*\\s+stores=12\\s+1\\s+0\\s+0\\s+ok`));

      rx.status = 503;
      const failing = await run(['webhooks', 'test', id], { env });
      expect(failing.code).toBe(2);
      expect(failing.stdout).toContain('failed: HTTP 503');
      expect((await run(['webhooks', 'dead'], { env })).stdout).toContain('no dead letters');

      expect((await run(['webhooks', 'remove', id], { env })).code).toBe(0);
      const gone = await run(['webhooks', 'test', id], { env });
      expect(gone.code).toBe(2);
      expect(gone.stderr).toMatch(/no webhook endpoint/);
      const bad = await run(['webhooks', 'add', 'ftp://x'], { env });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/url/);
    } finally {
      await rx.close();
    }
    // Nine CLI processes, each a cold Node start: slow on a loaded 2-core machine, not stuck.
  }, 180_000);
});

describe('relaydesk act', () => {
  it('requests an action, follows it to the outcome with --wait, and exits 2 when the backend refuses', async () => {
    const operator = await createToken(t.url, 'operator', { store_ids: ['12'] }, 'cli operator');
    const opEnv = { RELAYDESK_URL: t.url, RELAYDESK_TOKEN: operator };
    const args = (id: string) => ['act', 'order.status', '--target-type', 'store.order', '--target-id', 'A-1', '--store', '12', '--param', 'status=served', '--param', 'table=3', '--id', id, '--wait'];

    // The test plays the backend: it sees the request and completes it while the CLI waits.
    const done = start(args('cli-act-1'), opEnv);
    done.child.stdin!.end();
    await until(async () => (await api(t.url, '/v1/actions/cli-act-1')).status === 200, 'the request in the log', 60_000);
    const req = (await api(t.url, '/v1/actions/cli-act-1')).body;
    expect(req).toMatchObject({ name: 'order.status', params: { status: 'served', table: 3 }, store_id: '12', requested_by_label: 'cli operator' });
    await api(t.url, '/v1/events', { body: { type: 'action.completed', store_id: 12, data: { action_id: 'cli-act-1' } } });
    const ok = await done.result;
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^requested cli-act-1 \(seq \d+\)/);
    expect(ok.stdout).toContain('cli-act-1: completed');

    // Run again with the same id: nothing new is requested, and the outcome is already there.
    const again = await run(args('cli-act-1'), { env: opEnv });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('duplicate: already requested under this id');

    const refused = start(args('cli-act-2'), opEnv);
    refused.child.stdin!.end();
    await until(async () => (await api(t.url, '/v1/actions/cli-act-2')).status === 200, 'the second request', 60_000);
    await api(t.url, '/v1/events', { body: { type: 'action.rejected', store_id: 12, data: { action_id: 'cli-act-2', reason: 'already served' } } });
    const no = await refused.result;
    expect(no.code).toBe(2);
    expect(no.stdout).toContain('cli-act-2: rejected (already served)');

    const subscriber = await createToken(t.url, 'subscriber', { store_ids: ['12'] });
    const denied = await run(args('cli-act-3'), { env: { RELAYDESK_URL: t.url, RELAYDESK_TOKEN: subscriber } });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(/needs an operator or admin token/);
  }, 120_000);
});

describe('relaydesk actions', () => {
  /** A hub of its own whose actions never time out while the test reads them (the default is a minute). */
  let h: TestHub;
  let hEnv: Record<string, string>;
  const STORE = 31;
  let op: string;
  let opEnv: Record<string, string>;
  const ask = (id: string, name: string, params: Record<string, unknown>, target: Record<string, unknown> = { type: 'store.order', id: `O-${id}` }, store = STORE, token = op) =>
    api(h.url, '/v1/actions', { method: 'POST', token, body: { action_id: id, name, target, params, store_id: store } });
  const lines = (s: string) => s.trim().split('\n').filter(Boolean);
  const ids = (r: Run) => lines(r.stdout).map((l) => (JSON.parse(l) as { action_id: string }).action_id);

  beforeAll(async () => {
    h = await startTestHub({ actions: { timeoutMs: 3_600_000, sweepIntervalMs: 60_000 } });
    hEnv = { RELAYDESK_URL: h.url, RELAYDESK_ADMIN_TOKEN: ADMIN };
    op = await createToken(h.url, 'operator', { store_ids: [String(STORE)] }, 'night manager');
    opEnv = { RELAYDESK_URL: h.url, RELAYDESK_TOKEN: op };
    const deploy = await publish(h.url, { id: 'cli-deploy-9', type: 'x.deploy.failed', store_id: STORE, data: { service: 'web' }, actions: [{ id: 'deploy.rollback', label: 'Roll back' }] });
    const seq = deploy.body.results[0].seq as number;
    for (const [id, name, params, target] of [
      ['ha-1', 'order.status', { status: 'accepted' }],
      ['ha-2', 'order.status', { status: 'cancelled', reason: 'customer left' }],
      ['ha-3', 'deploy.rollback', {}, { type: 'x.deploy.failed', id: 'cli-deploy-9', seq }],
      ['ha-4', 'order.status', { status: 'served' }],
      ['ha-5', 'order.status', { status: 'preparing' }],
    ] as const)
      expect((await ask(id, name, params, target)).status).toBe(202);
    const r = await publish(h.url, [
      { type: 'action.accepted', store_id: STORE, data: { action_id: 'ha-1', message: 'on it' } },
      { type: 'action.completed', store_id: STORE, data: { action_id: 'ha-1' } },
      { type: 'action.rejected', store_id: STORE, data: { action_id: 'ha-2', reason: 'the order is already being cooked' } },
      { type: 'action.failed', store_id: STORE, data: { action_id: 'ha-3', error: 'web-7 unreachable' } },
    ]);
    expect(r.status).toBe(201);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('lists who asked what, on what, when and how it ended, newest first; filters as the API does', async () => {
    const all = await run(['actions'], { env: opEnv });
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toBe('');
    const [header, ...rows] = lines(all.stdout);
    expect(header).toMatch(/^WHEN \(UTC\)\s+ACTION ID\s+WHO\s+WHAT\s+TARGET\s+SCOPE\s+OUTCOME$/);
    expect(rows.map((l) => l.split(/\s+/)[2])).toEqual(['ha-5', 'ha-4', 'ha-3', 'ha-2', 'ha-1']);
    expect(rows[3]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+ha-2\s+night manager\s+order\.status status=cancelled reason=customer left\s+store\.order O-ha-2\s+store=31\s+rejected: the order is already being cooked$/);
    expect(rows[2]).toMatch(/deploy\.rollback\s+x\.deploy\.failed cli-deploy-9 \(event #\d+\)\s+store=31\s+failed: web-7 unreachable$/);
    expect(rows[4]).toMatch(/\s+completed$/);
    expect(rows[0]).toMatch(/\s+requested$/);

    const problems = await run(['actions', '--state', 'problems', '--json'], { env: opEnv });
    expect(problems.code, problems.stderr).toBe(0);
    const parsed = lines(problems.stdout).map((l) => JSON.parse(l) as { action_id: string; state: string; requested_by_label: string });
    expect(parsed.map((a) => [a.action_id, a.state])).toEqual([
      ['ha-3', 'failed'],
      ['ha-2', 'rejected'],
    ]);
    // The same objects as GET /v1/actions/<id> answers.
    expect(parsed[1]).toEqual((await api(h.url, '/v1/actions/ha-2', { token: op })).body);

    expect(ids(await run(['actions', 'list', '--name', 'deploy.rollback', '--json'], { env: opEnv }))).toEqual(['ha-3']);
    expect(ids(await run(['actions', '--state', 'completed,requested', '--target-type', 'store.order', '--json'], { env: opEnv }))).toEqual(['ha-5', 'ha-4', 'ha-1']);
    expect(ids(await run(['actions', '--mine', '--json'], { env: opEnv }))).toEqual(['ha-5', 'ha-4', 'ha-3', 'ha-2', 'ha-1']);
    const otherOp = await createToken(h.url, 'operator', { store_ids: [String(STORE)] }, 'day manager');
    const notMine = await run(['actions', '--mine'], { env: { RELAYDESK_URL: h.url, RELAYDESK_TOKEN: otherOp } });
    expect(notMine.code, notMine.stderr).toBe(0);
    expect(notMine.stdout).toBe('no actions match these filters\n');

    const bad = await run(['actions', '--state', 'lost'], { env: opEnv });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--state lost: use requested, delivered, .* or open \(.*\) or problems/);
    const refused = await run(['actions', '--name', 'Not A Name'], { env: opEnv });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/400 invalid_request[\s\S]*name: must be dotted lower-case words/);
    // A publisher reads nothing back from the hub.
    const pub = await createToken(h.url, 'publisher', { store_ids: [String(STORE)] });
    const denied = await run(['actions', '--token', pub], { env: { RELAYDESK_URL: h.url } });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain('403');
  }, 300_000);

  it('pages with --limit and --cursor, or follows every page with --all', async () => {
    const first = await run(['actions', '--limit', '2'], { env: opEnv });
    expect(first.code, first.stderr).toBe(0);
    expect(lines(first.stdout).slice(1).map((l) => l.split(/\s+/)[2])).toEqual(['ha-5', 'ha-4']);
    const cursor = /older actions: add --cursor (\d+) \(or --all\)/.exec(first.stderr)![1]!;
    const second = await run(['actions', '--limit', '2', '--cursor', cursor, '--json'], { env: opEnv });
    expect(second.code, second.stderr).toBe(0);
    expect(ids(second)).toEqual(['ha-3', 'ha-2']);
    const next = JSON.parse(second.stderr) as { next_cursor: string };
    const last = await run(['actions', '--limit', '2', '--cursor', next.next_cursor, '--json'], { env: opEnv });
    expect(ids(last)).toEqual(['ha-1']);
    expect(last.stderr).toBe('');

    const everything = await run(['actions', '--all', '--limit', '2', '--json'], { env: opEnv });
    expect(everything.code, everything.stderr).toBe(0);
    expect(ids(everything)).toEqual(['ha-5', 'ha-4', 'ha-3', 'ha-2', 'ha-1']);
    expect(everything.stderr).toBe('');
    const table = await run(['actions', '--all', '--limit', '1'], { env: opEnv });
    expect(lines(table.stdout)).toHaveLength(6);

    const both = await run(['actions', '--all', '--cursor', cursor], { env: opEnv });
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('give --all or --cursor, not both');
  }, 300_000);

  it('show: one action from its request to its last outcome, the webhook that took it, and late answers marked', async () => {
    const { WebhookReceiver } = await import('../helpers/webhook-receiver.ts');
    const rx = new WebhookReceiver('whsec_' + Buffer.alloc(32, 9).toString('base64'));
    await rx.listen();
    try {
      const added = await api(h.url, '/v1/webhooks', { body: { url: rx.url, types: ['action.*'], scope: { store_ids: ['32'] }, secret: 'whsec_' + Buffer.alloc(32, 9).toString('base64') } });
      expect(added.status).toBe(201);
      const op32 = await createToken(h.url, 'operator', { store_ids: ['32'] }, 'bar manager');
      expect((await ask('hs-1', 'order.status', { status: 'served' }, { type: 'store.order', id: 'B-7', seq: 3 }, 32, op32)).status).toBe(202);
      await until(() => rx.applied.some((a) => (a.data as { id?: string }).id === 'hs-1'), 'the request delivered to the backend');
      await until(async () => (await api(h.url, '/v1/actions/hs-1')).body.state === 'delivered', 'the delivery recorded');
      await publish(h.url, [
        { type: 'action.accepted', store_id: 32, data: { action_id: 'hs-1', message: 'on the pass' } },
        { type: 'action.rejected', store_id: 32, data: { action_id: 'hs-1', reason: 'table B-7 already left' } },
        { type: 'action.completed', store_id: 32, data: { action_id: 'hs-1' } },
      ]);

      const shown = await run(['actions', 'show', 'hs-1'], { env: { RELAYDESK_URL: h.url, RELAYDESK_TOKEN: op32 } });
      expect(shown.code, shown.stderr).toBe(0);
      const out = lines(shown.stdout);
      expect(out.slice(0, 6)).toEqual([
        'action     hs-1',
        'what       order.status status=served',
        'target     store.order B-7 (event #3)',
        'scope      store=32',
        expect.stringMatching(/^asked by {3}bar manager \(token tok_\w+\)$/),
        'state      rejected: table B-7 already left',
      ]);
      const timeline = out.slice(6);
      expect(timeline).toHaveLength(5);
      expect(timeline[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\s+#\d+\s+requested\s+by bar manager$/);
      expect(timeline[1]).toMatch(new RegExp(`^\\s+delivered\\s+to webhook ${added.body.id as string}$`));
      expect(timeline[2]).toMatch(/#\d+\s+accepted\s+on the pass\s+\+\d/);
      expect(timeline[3]).toMatch(/#\d+\s+rejected\s+table B-7 already left\s+\+\d/);
      expect(timeline[4]).toMatch(/#\d+\s+completed\s+\(after the final outcome: does not change it\)\s+\+\d/);

      const json = await run(['actions', 'show', 'hs-1', '--json'], { env: hEnv });
      expect(JSON.parse(json.stdout)).toEqual((await api(h.url, '/v1/actions/hs-1')).body);

      const open = await run(['actions', 'show', 'ha-5'], { env: hEnv });
      expect(open.stdout).toMatch(/state {6}requested\n[\s\S]*still open: no final outcome from a backend yet\n$/);
      // An action outside the token's scope does not exist for it.
      const outside = await run(['actions', 'show', 'hs-1'], { env: opEnv });
      expect(outside.code).toBe(2);
      expect(outside.stderr).toContain('404 not_found: no action hs-1');
      await api(h.url, `/v1/webhooks/${added.body.id as string}`, { method: 'DELETE' });
    } finally {
      await rx.close();
    }
  }, 300_000);

  it('--follow prints the page, then each action of the filter as it is asked and answered, until Ctrl-C', async () => {
    const p = start(['actions', '--follow', '--json', '--limit', '1', '--name', 'order.status'], opEnv);
    p.child.stdin!.end();
    const states = () => lines(p.stdout()).map((l) => JSON.parse(l) as { action_id: string; state: string }).map((a) => `${a.action_id} ${a.state}`);
    await until(() => states().length >= 1, 'the first page', 60_000);
    // Asked after the list was read: the stream resumes from the head read before it, so it is not missed.
    expect((await ask('hf-other', 'deploy.retry', {}, { type: 'x.deploy.failed', id: 'cli-deploy-9' })).status).toBe(202);
    expect((await ask('hf-1', 'order.status', { status: 'served' })).status).toBe(202);
    await until(() => states().includes('hf-1 requested'), 'the new request', 60_000);
    await publish(h.url, { type: 'action.accepted', store_id: STORE, data: { action_id: 'hf-1' } });
    await until(() => states().includes('hf-1 accepted'), 'the acceptance', 60_000);
    await publish(h.url, { type: 'action.rejected', store_id: STORE, data: { action_id: 'hf-1', reason: 'out of noodles' } });
    await until(() => states().includes('hf-1 rejected'), 'the refusal', 60_000);
    p.child.kill('SIGINT');
    const r = await p.result;
    expect(r.code).toBe(130);
    // The page (the newest order.status), then hf-1 as it moved; the other action is not of the filter.
    expect(states()).toEqual(['ha-5 requested', 'hf-1 requested', 'hf-1 accepted', 'hf-1 rejected']);
    expect(JSON.parse(lines(r.stdout).at(-1)!)).toMatchObject({ action_id: 'hf-1', reason: 'out of noodles', requested_by_label: 'night manager' });
  }, 300_000);

  it('an answer the API contract does not describe (another version, something else at --url) exits 3', async () => {
    const srv = createHttpServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.startsWith('/v1/actions/') ? JSON.stringify({ action_id: 'x', status: 'done' }) : JSON.stringify({ items: [], cursor: null }));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
      for (const args of [['actions'], ['actions', 'show', 'x']]) {
        const r = await run(args, { env: { RELAYDESK_URL: url, RELAYDESK_TOKEN: 'any' } });
        expect(r.code, args.join(' ')).toBe(3);
        expect(r.stderr).toMatch(/does not match the API contract[\s\S]*same version as this CLI/);
      }
    } finally {
      await new Promise((r) => srv.close(r));
    }
  }, 60_000);
});
