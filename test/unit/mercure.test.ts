import { describe, expect, it } from 'vitest';
import { isReservedTopic, parsePublishForm, updateFrame } from '../../electron/hub/mercure/update.ts';
import { MercureAuth } from '../../electron/hub/mercure/auth.ts';
import { expandValue, subscriptionId } from '../../electron/hub/mercure/subscriptions.ts';
import { HubError } from '../../electron/hub/errors.ts';
import { MERCURE_KEY, mercureJwt } from '../helpers/mercure.ts';

const form = (fields: [string, string][]) => new URLSearchParams(fields);
const fieldsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof HubError) return { status: err.status, paths: err.fields?.map((f) => f.path) };
    throw err;
  }
  throw new Error('expected a HubError');
};

describe('Mercure update frames', () => {
  // The round trip through a real EventSource client is in test/integration/mercure.test.ts.
  it('puts every line of the data on a data: line of its own, blank lines included', () => {
    expect(updateFrame({ id: 'urn:x:1', data: '\n\nmiddle\n\n' })).toBe('id: urn:x:1\ndata: \ndata: \ndata: middle\ndata: \ndata: \n\n');
    expect(updateFrame({ id: 'i', data: '' })).toBe('id: i\ndata: \n\n');
    expect(updateFrame({ id: 'i', data: '  lead: x' })).toBe('id: i\ndata:   lead: x\n\n');
  });

  it('treats CR LF and lone CR as line ends, as EventSource does', () => {
    expect(updateFrame({ id: 'i', data: 'a\r\nb\rc' })).toBe('id: i\ndata: a\ndata: b\ndata: c\n\n');
  });

  it('carries the type as the event name and the retry hint', () => {
    expect(updateFrame({ id: 'i', data: 'd', type: 'book.updated', retry: 1500 })).toBe('event: book.updated\nretry: 1500\nid: i\ndata: d\n\n');
  });
});

describe('Mercure publish form', () => {
  it('reads topics (first canonical, repeats dropped), data, private, id, type and retry', () => {
    const u = parsePublishForm(form([['topic', 'a'], ['topic', 'b'], ['topic', 'a'], ['data', 'x'], ['private', ''], ['id', 'urn:1'], ['type', 't'], ['retry', '10']]));
    expect(u).toEqual({ id: 'urn:1', topics: ['a', 'b'], data: 'x', private: true, type: 't', retry: 10 });
  });

  it('generates a urn:uuid id and defaults to public, empty data', () => {
    const u = parsePublishForm(form([['topic', 'a']]));
    expect(u.id).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(u).toMatchObject({ data: '', private: false });
  });

  it('names the field of every refusal', () => {
    expect(fieldsOf(() => parsePublishForm(form([['data', 'x']])))).toEqual({ status: 400, paths: ['topic'] });
    expect(fieldsOf(() => parsePublishForm(form([['topic', 'a'], ['id', 'a\rb']])))).toEqual({ status: 400, paths: ['id'] });
    expect(fieldsOf(() => parsePublishForm(form([['topic', 'a'], ['type', 'x\ny']])))).toEqual({ status: 400, paths: ['type'] });
    expect(fieldsOf(() => parsePublishForm(form([['topic', 'a'], ['retry', '-1']])))).toEqual({ status: 400, paths: ['retry'] });
    expect(fieldsOf(() => parsePublishForm(form([['topic', 'a\u0001']])))).toEqual({ status: 400, paths: ['topic.0'] });
    expect(fieldsOf(() => parsePublishForm(form([['topic', 'a'], ['data', '1'], ['data', '2']])))).toEqual({ status: 400, paths: ['data'] });
    expect(fieldsOf(() => parsePublishForm(form([['topic', 'a'], ['topic', '/.well-known/mercure/subscriptions/a/b']])))).toEqual({ status: 403, paths: ['topic.1'] });
  });

  it('finds the reserved namespace however the topic is written', () => {
    expect(isReservedTopic('/.well-known/mercure')).toBe(true);
    expect(isReservedTopic('https://other.example/.well-known/mercure/subscriptions/x')).toBe(true);
    expect(isReservedTopic('../.well-known/mercure/x')).toBe(true);
    expect(isReservedTopic('/.well-known/mercurex')).toBe(false);
    expect(isReservedTopic('https://example.com/books/1')).toBe(false);
  });
});

describe('Mercure subscription ids', () => {
  it('expand topic and subscriber as RFC 6570 simple expansions', () => {
    expect(expandValue("https://example.com/{x}!'()*")).toBe('https%3A%2F%2Fexample.com%2F%7Bx%7D%21%27%28%29%2A');
    expect(subscriptionId('a/b', 'urn:uuid:1')).toBe('/.well-known/mercure/subscriptions/a%2Fb/urn%3Auuid%3A1');
  });
});

describe('Mercure JWT verification', () => {
  const opts = { publisherKey: MERCURE_KEY, alg: 'HS256' as const, anonymous: false, subscriptions: false };

  it('reads the mercure claim (and its namespaced form)', async () => {
    const auth = new MercureAuth(opts);
    const token = await mercureJwt({ publish: ['a/{b}'], subscribe: ['*'], payload: { u: 1 } });
    expect(await auth.verify({ token, from: 'headers.authorization' }, 'publisher')).toMatchObject({ publish: ['a/{b}'], subscribe: ['*'], payload: { u: 1 } });
    // The subscriber key defaults to the publisher's.
    expect(await auth.verify({ token, from: 'cookie' }, 'subscriber')).toMatchObject({ subscribe: ['*'] });
  });

  it('refuses with 401 and says why', async () => {
    const auth = new MercureAuth(opts);
    const reasons = async (token: string) => {
      try {
        await auth.verify({ token, from: 'authorization' }, 'publisher');
        return null;
      } catch (err) {
        expect((err as HubError).status).toBe(401);
        expect((err as HubError).fields![0]!.path).toBe('authorization');
        return (err as HubError).fields![0]!.reason;
      }
    };
    expect(await reasons(await mercureJwt({ publish: ['*'] }, { exp: Math.floor(Date.now() / 1000) - 10 }))).toBe('token expired');
    expect(await reasons(await mercureJwt({ publish: ['*'] }, { key: 'not-the-key-not-the-key-not-the-key' }))).toMatch(/signature/);
    expect(await reasons('garbage')).toBe('not a valid JWT');
    expect(await reasons(await mercureJwt({ publish: ['{unclosed'] }))).toMatch(/mercure\.publish/);
  });

  it('has no publisher key when only a subscriber key is given', async () => {
    const auth = new MercureAuth({ ...opts, publisherKey: undefined, subscriberKey: MERCURE_KEY });
    expect(await auth.hasKey('publisher')).toBe(false);
    expect(await auth.hasKey('subscriber')).toBe(true);
  });

  it('refuses an RS256 key that is not a PEM public key', async () => {
    await expect(new MercureAuth({ ...opts, alg: 'RS256', publisherKey: 'not a pem' }).ready).rejects.toThrow(/not an RSA public key/);
  });
});
