import { test, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { MERCURE_KEY, mercureJwt } from '../helpers/mercure.ts';

/**
 * The Mercure protocol as browsers use it, against `relaydesk serve` started the way a Mercure user
 * would start a hub: the reference hub's default key, anonymous subscribers, subscriptions on. The
 * cases follow the Mercure project's public conformance suite (topics, alternate topics, several
 * selectors, URIs, URI templates, non-matching selectors, private updates unseen by an anonymous
 * subscriber, the publisher's id as the SSE id and the publish answer), written for this project:
 * absence is proven by a marker update published after the one that must not arrive.
 */

const BIN = fileURLToPath(new URL('../../bin/relaydesk.js', import.meta.url));
// HS256 over {"mercure":{"publish":["*"],"subscribe":["*"]}} with the default key: the token the
// reference hub's documentation and conformance suite publish with.
const PUBLISHER = 'eyJhbGciOiJIUzI1NiJ9.eyJtZXJjdXJlIjp7InB1Ymxpc2giOlsiKiJdLCJzdWJzY3JpYmUiOlsiKiJdfX0.bVXdlWXwfw9ySx7-iV5OpUSHo34RkjUdVzDLBcc6l_g';

interface Served {
  url: string;
  stop(): Promise<void>;
}

async function serve(extra: string[] = []): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'relaydesk-mercure-e2e-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--db', join(dir, 'hub.db'), '--log-level', 'warn', '--mercure-anonymous', '--mercure-subscriptions', ...extra],
    { env: { ...process.env, RELAYDESK_ADMIN_TOKEN: 'e2e-admin', MERCURE_PUBLISHER_JWT_KEY: MERCURE_KEY }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`relaydesk serve did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m && out.includes('Mercure hub:')) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`relaydesk serve exited with ${code}: ${out}`)));
  });
  return {
    url,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const random = () => randomBytes(20).toString('hex');

interface Case {
  name: string;
  updateTopics: string[];
  topicSelectors: string[];
  mustBeReceived: boolean;
  private?: true;
}

const r = Array.from({ length: 6 }, random);
const cases: Case[] = [
  { name: 'raw string', mustBeReceived: true, updateTopics: [r[0]!], topicSelectors: [r[0]!] },
  { name: 'multiple topics', mustBeReceived: true, updateTopics: [random(), r[1]!], topicSelectors: [r[1]!] },
  { name: 'multiple topic selectors', mustBeReceived: true, updateTopics: [r[2]!], topicSelectors: ['foo', r[2]!] },
  { name: 'URI', mustBeReceived: true, updateTopics: [`https://example.net/foo/${r[3]}`], topicSelectors: [`https://example.net/foo/${r[3]}`] },
  { name: 'URI template', mustBeReceived: true, updateTopics: [`https://example.net/foo/${r[4]}`], topicSelectors: ['https://example.net/foo/{random}'] },
  { name: 'nonmatching raw string', mustBeReceived: false, updateTopics: ['will-not-match}'], topicSelectors: ['another-name'] },
  { name: 'nonmatching URI', mustBeReceived: false, updateTopics: ['https://example.net/foo/will-not-match}'], topicSelectors: ['https://example.net/foo/another-name'] },
  { name: 'nonmatching URI template', mustBeReceived: false, updateTopics: ['https://example.net/foo/will-not-match}'], topicSelectors: ['https://example.net/bar/{var}'] },
  { name: 'private raw string', mustBeReceived: false, private: true, updateTopics: [r[0]!], topicSelectors: [r[0]!] },
  { name: 'private URI', mustBeReceived: false, private: true, updateTopics: [`https://example.net/foo/${r[3]}`], topicSelectors: [`https://example.net/foo/${r[3]}`] },
  { name: 'private URI template', mustBeReceived: false, private: true, updateTopics: [`https://example.net/foo/${r[4]}`], topicSelectors: ['https://example.net/foo/{random}'] },
];

test.describe('Mercure conformance against relaydesk serve', () => {
  let hub: Served;
  test.beforeAll(async () => {
    hub = await serve();
  });
  test.afterAll(async () => hub?.stop());

  for (const c of cases) {
    test(c.name, async ({ page }) => {
      await page.goto(hub.url + '/');
      const marker = `marker-${random()}`;
      const result = await page.evaluate(
        async ({ c, marker, token }) => {
          const updateId = `id-${JSON.stringify(c.updateTopics)}`;
          const data = `data for\n\n        ${c.name}`;
          const url = new URL('/.well-known/mercure', window.origin);
          for (const s of [...c.topicSelectors, marker]) url.searchParams.append('topic', s);
          const es = new EventSource(url);
          const seen: { data: string; id: string; type: string }[] = [];
          const markerSeen = new Promise<void>((resolve) => {
            es.onmessage = (e) => {
              seen.push({ data: e.data, id: e.lastEventId, type: e.type });
              if (e.data === marker) resolve();
            };
          });
          await new Promise<void>((resolve, reject) => {
            es.onopen = () => resolve();
            es.onerror = () => reject(new Error('EventSource failed to open'));
          });
          const post = (form: URLSearchParams) => fetch('/.well-known/mercure', { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
          const form = new URLSearchParams();
          for (const t of c.updateTopics) form.append('topic', t);
          form.set('id', updateId);
          form.set('data', data);
          if (c.private) form.set('private', 'on');
          const resp = await post(form);
          const body = await resp.text();
          // Published after the update: once it is here, the update has been delivered or never will be.
          await post(new URLSearchParams({ topic: marker, data: marker }));
          await markerSeen;
          es.close();
          return { status: resp.status, contentType: resp.headers.get('content-type'), body, updateId, data, seen };
        },
        { c, marker, token: PUBLISHER },
      );
      expect(result.status).toBe(200);
      expect(result.contentType).toMatch(/^text\/plain(?:$|;.*)/);
      expect(result.body).toBe(result.updateId);
      const got = result.seen.filter((m) => m.data !== marker);
      if (c.mustBeReceived) expect(got).toEqual([{ data: result.data, id: result.updateId, type: 'message' }]);
      else expect(got).toEqual([]);
    });
  }
});

test.describe('Mercure from another origin, through the CORS allow-list', () => {
  let hub: Served;
  let page2: Server;
  let origin: string;
  test.beforeAll(async () => {
    page2 = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>'));
    await new Promise<void>((resolve) => page2.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(page2.address() as { port: number }).port}`;
    hub = await serve(['--cors-origin', origin]);
  });
  test.afterAll(async () => {
    await hub?.stop();
    page2?.close();
  });

  test('a page on a listed origin publishes with a header and subscribes with the cookie', async ({ page, context }) => {
    // The app's own server would set this cookie for the hub's host (here: the same loopback name).
    const subscriber = await mercureJwt({ subscribe: ['https://example.net/cors/{id}'] });
    await context.addCookies([{ name: 'mercureAuthorization', value: subscriber, url: hub.url, httpOnly: true, sameSite: 'Lax' }]);
    await page.goto(origin + '/');
    const result = await page.evaluate(
      async ({ hubUrl, token }) => {
        const url = new URL('/.well-known/mercure', hubUrl);
        url.searchParams.append('topic', 'https://example.net/cors/{id}');
        const es = new EventSource(url, { withCredentials: true });
        const got = new Promise<string>((resolve) => (es.onmessage = (e) => resolve(e.data)));
        await new Promise<void>((resolve, reject) => {
          es.onopen = () => resolve();
          es.onerror = () => reject(new Error('cross-origin EventSource failed'));
        });
        const form = new URLSearchParams({ topic: 'https://example.net/cors/1', data: 'private\nacross origins', private: 'on' });
        const resp = await fetch(new URL('/.well-known/mercure', hubUrl), { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
        const data = await got;
        es.close();
        return { status: resp.status, data };
      },
      { hubUrl: hub.url, token: PUBLISHER },
    );
    expect(result).toEqual({ status: 200, data: 'private\nacross origins' });
  });
});


test.describe('Mercure updates in the console', () => {
  test('the live view shows an update with its topics and its data', async ({ page }) => {
    const { startTestHub } = await import('../helpers/hub.ts');
    const { login, RENDERER_DIR } = await import('./fixtures.ts');
    const hub = await startTestHub({ rendererDir: RENDERER_DIR, heartbeatMs: 1_000, retryMs: 500, mercure: { publisherKey: MERCURE_KEY, alg: 'HS256', anonymous: false, subscriptions: false } });
    try {
      await page.setViewportSize({ width: 1440, height: 600 });
      await login(page, hub, 'admin', {}, 'live');
      const form = new URLSearchParams([['topic', 'https://example.net/books/1'], ['topic', 'https://example.net/authors/7'], ['data', '{"title":"Dune",\n"stock":3}']]);
      const r = await fetch(`${hub.url}/.well-known/mercure`, { method: 'POST', headers: { authorization: `Bearer ${PUBLISHER}` }, body: form });
      expect(r.status).toBe(200);
      const row = page.getByTestId('live-table').locator('.vbody [role="row"]').filter({ hasText: 'mercure.update' });
      await expect(row).toHaveCount(1);
      await expect(row.getByTestId('live-topics')).toHaveAttribute('title', 'https://example.net/books/1\nhttps://example.net/authors/7');
      await expect(row).toContainText('https://example.net/books/1 (+1): {"title":"Dune", "stock":3}');
      await page.screenshot({ path: test.info().outputPath('mercure-live.png') });
    } finally {
      await hub.stop();
    }
  });
});
