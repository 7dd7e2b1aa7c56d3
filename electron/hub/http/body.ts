import type { FastifyInstance } from 'fastify';
import { HubError } from '../errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new HubError(400, 'invalid_utf8', 'request body is not valid UTF-8', [{ path: 'body', reason: 'invalid UTF-8 byte sequence' }]);
  }
}

function parseJson(text: string, path = 'body'): unknown {
  try {
    return JSON.parse(text, (k, v) => {
      // Same defence as secure-json-parse: a "__proto__" key must never reach object spreads.
      if (k === '__proto__' || k === 'constructor') throw new SyntaxError(`forbidden key "${k}"`);
      return v;
    });
  } catch (err) {
    const reason = err instanceof RangeError ? 'nested too deeply' : (err as Error).message;
    throw new HubError(400, 'invalid_json', `${path} is not valid JSON: ${reason}`, [{ path, reason }]);
  }
}

/**
 * Strict body parsers: invalid UTF-8 is an error rather than silently replaced, and NDJSON lets a
 * backend stream a batch one event per line. Other content types get Fastify's 415.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      const text = decode(body as Buffer);
      if (text.trim() === '') throw new HubError(400, 'invalid_json', 'request body is empty', [{ path: 'body', reason: 'empty' }]);
      done(null, parseJson(text));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      const lines = decode(body as Buffer).split('\n');
      const events = lines.flatMap((l, i) => (l.trim() ? [parseJson(l, `line ${i + 1}`)] : []));
      done(null, events);
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
