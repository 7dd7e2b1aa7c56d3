import type { FastifyInstance, FastifyRequest } from 'fastify';
import { gunzip } from 'node:zlib';
import { HubError } from '../errors.ts';
import type { FieldError } from '../../../shared/events.ts';
import { fidelityProblems } from './json-fidelity.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new HubError(400, 'invalid_utf8', 'request body is not valid UTF-8', [{ path: 'body', reason: 'invalid UTF-8 byte sequence' }]);
  }
}

/**
 * Syntax errors are a 400. A `constructor` key is ordinary data and is kept; `__proto__` keys and
 * numbers a float cannot hold exactly are found by the raw-text check (json-fidelity.ts), because
 * storing them would change the data after a 201.
 */
function parseJson(text: string, where = 'body'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = err instanceof RangeError ? 'nested too deeply' : (err as Error).message;
    throw new HubError(400, 'invalid_json', `${where} is not valid JSON: ${reason}`, [{ path: where, reason }]);
  }
}

function refuseInexact(problems: FieldError[]): void {
  if (problems.length)
    throw new HubError(422, 'validation_failed', `${problems.length} value(s) cannot be stored exactly as sent; nothing was stored`, problems);
}

/**
 * The body as sent, decompressed when it says `Content-Encoding: gzip`. Fastify's body limit has
 * already bounded the compressed bytes; the same limit bounds the decompressed ones (zlib stops at
 * it), so a small bomb cannot expand in memory. Any other encoding is refused rather than parsed
 * as if it were plain text.
 */
function readBody(req: FastifyRequest, body: Buffer, done: (err: Error | null, text?: string) => void): void {
  const encoding = String(req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return tryDecode(body, done);
  if (encoding !== 'gzip' && encoding !== 'x-gzip')
    return done(
      new HubError(415, 'unsupported_content_encoding', `Content-Encoding "${encoding.slice(0, 40)}" is not supported`, [
        { path: 'headers.content-encoding', reason: 'use gzip, or send the body uncompressed' },
      ]),
    );
  const limit = req.routeOptions.bodyLimit ?? body.length;
  gunzip(body, { maxOutputLength: limit }, (err, out) => {
    if (!err) return tryDecode(out, done);
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError)
      return done(new HubError(413, 'ctp_body_too_large', `body larger than ${limit} bytes after decompression`, [{ path: 'body', reason: `body larger than ${limit} bytes after decompression` }]));
    done(new HubError(400, 'invalid_gzip', `body is not valid gzip: ${err.message}`, [{ path: 'body', reason: 'invalid gzip data' }]));
  });
}

function tryDecode(body: Buffer, done: (err: Error | null, text?: string) => void): void {
  let text: string;
  try {
    text = decode(body);
  } catch (err) {
    return done(err as Error);
  }
  done(null, text);
}

/**
 * Strict body parsers: invalid UTF-8 is an error rather than silently replaced, and NDJSON lets a
 * backend stream a batch one event per line. Other content types get Fastify's 415.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    readBody(req, body as Buffer, (err, text) => {
      if (err) return done(err, undefined);
      try {
        if (text!.trim() === '') throw new HubError(400, 'invalid_json', 'request body is empty', [{ path: 'body', reason: 'empty' }]);
        const value = parseJson(text!);
        refuseInexact(fidelityProblems(text!));
        done(null, value);
      } catch (e) {
        done(e as Error, undefined);
      }
    });
  });
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer' }, (req, body, done) => {
    readBody(req, body as Buffer, (err, text) => {
      if (err) return done(err, undefined);
      try {
        const events: unknown[] = [];
        const problems: FieldError[] = [];
        text!.split('\n').forEach((l, i) => {
          if (!l.trim()) return;
          events.push(parseJson(l, `line ${i + 1}`));
          // Paths name the event's index in the batch, as validation errors do.
          problems.push(...fidelityProblems(l, [String(events.length - 1)]));
        });
        refuseInexact(problems.slice(0, 100));
        done(null, events);
      } catch (e) {
        done(e as Error, undefined);
      }
    });
  });
}
