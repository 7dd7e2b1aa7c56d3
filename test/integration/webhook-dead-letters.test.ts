import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { ADMIN, api, publish, startTestHub, until, type TestHub } from '../helpers/hub.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { sample } from '../helpers/events.ts';
import { cleanupAfterEach } from '../helpers/cleanup.ts';

const BIN = resolve(import.meta.dirname, '../../bin/relaydesk.js');
const { later } = cleanupAfterEach();

/** `relaydesk …` as a user runs it, against `url` with the admin token. */
function cli(url: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', RELAYDESK_URL: url, RELAYDESK_ADMIN_TOKEN: ADMIN, RELAYDESK_TOKEN: undefined }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((res) => child.on('close', (code) => (clearTimeout(timer), res({ code, stdout, stderr }))));
}

interface Dead {
  endpoint_id: string;
  seq: number;
}
const deadOf = async (h: TestHub, id?: string) => (await api(h.url, `/v1/webhooks/dead${id ? `?endpoint_id=${id}` : ''}`)).body.dead as Dead[];

describe('dead letters: delete, purge, retention', () => {
  it('are deleted one by one or purged over the API and the CLI, and leave with their events at retention', async () => {
    // One attempt each, so every failed event dies at once; retention runs only when called.
    const h = await startTestHub({ webhooks: { timeoutMs: 2_000, maxAttempts: 1, baseDelayMs: 20, maxDelayMs: 50 }, retention: { maxEvents: 5, chunk: 2_000, intervalMs: 3_600_000 } });
    later(() => h.stop());
    const rx = new WebhookReceiver('whsec_' + Buffer.alloc(32, 4).toString('base64'));
    later(() => rx.close());
    await rx.listen();
    rx.status = 500;
    const a = (await api(h.url, '/v1/webhooks', { method: 'POST', body: { url: rx.url, types: ['store.*'], description: 'kitchen' } })).body.id as string;
    const b = (await api(h.url, '/v1/webhooks', { method: 'POST', body: { url: rx.url, types: ['store.*'], description: 'bar' } })).body.id as string;
    const seqs: number[] = [];
    for (let i = 0; i < 4; i++) seqs.push((await publish(h.url, sample.storeOrder(12, { id: `dl-${i}` }))).body.results[0].seq);
    await until(async () => (await deadOf(h)).length === 8, 'eight dead letters');

    // One letter, by endpoint and seq; a second delete is a 404 naming the seq.
    expect((await api(h.url, `/v1/webhooks/${a}/dead/${seqs[0]}`, { method: 'DELETE' })).body).toEqual({ deleted: 1 });
    const again = await api(h.url, `/v1/webhooks/${a}/dead/${seqs[0]}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(again.body.error.fields).toEqual([{ path: 'seq', reason: 'not in the dead-letter list' }]);

    // A purge must say which letters; a date before every death deletes none.
    const vague = await api(h.url, '/v1/webhooks/dead/purge', { body: {} });
    expect(vague.status).toBe(400);
    expect(vague.body.error.fields[0].path).toBe('before');
    expect((await api(h.url, '/v1/webhooks/dead/purge', { body: { before: '2026-01-01T00:00:00Z', all: true } })).body.error.fields[0].path).toBe('all');
    expect((await api(h.url, '/v1/webhooks/dead/purge', { body: { before: '2020-01-01T09:00:00+09:00' } })).body).toEqual({ deleted: 0 });
    expect(await deadOf(h)).toHaveLength(7);

    // The CLI: one endpoint's whole list, one letter of the other, then everything older than now.
    const purgeA = await cli(h.url, ['webhooks', 'dead', a, '--purge', '--all']);
    expect(purgeA.stdout.trim(), purgeA.stderr).toBe(`deleted 3 dead letters of ${a}`);
    expect(await deadOf(h, a)).toEqual([]);
    const delB = await cli(h.url, ['webhooks', 'dead', b, '--delete', String(seqs[3])]);
    expect(delB.stdout.trim(), delB.stderr).toBe(`deleted dead letter ${seqs[3]} of ${b}`);
    const bad = await cli(h.url, ['webhooks', 'dead', '--purge']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/exactly one of --older-than <age>, --before <date-time> or --all/);
    const old = await cli(h.url, ['webhooks', 'dead', '--purge', '--older-than', '0s']);
    expect(old.stdout.trim(), old.stderr).toBe('deleted 3 dead letters');
    expect(await deadOf(h)).toEqual([]);

    // Retention: letters whose events are pruned cannot be redelivered, so they go too.
    for (let i = 4; i < 6; i++) await publish(h.url, sample.storeOrder(12, { id: `dl-${i}` }));
    await until(async () => (await deadOf(h)).length === 4, 'four new dead letters');
    await publish(h.url, Array.from({ length: 6 }, (_, i) => ({ type: 'x.filler', data: { i } })));
    // Both endpoints have looked past everything (else the prune is a gap they record as a loss).
    await until(async () => ((await api(h.url, '/v1/webhooks')).body.webhooks as { backlog: number }[]).every((w) => w.backlog === 0), 'the endpoints at the head');
    expect(await h.hub.prune()).toBeGreaterThan(0);
    expect(await deadOf(h)).toEqual([]);
  });
});
