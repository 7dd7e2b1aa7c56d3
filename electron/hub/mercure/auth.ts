import { jwtVerify, importSPKI, errors as joseErrors, type CryptoKey } from 'jose';
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { HubError } from '../errors.ts';
import { readCookie } from '../http/auth.ts';
import { isWildcardCrossOrigin } from '../http/security.ts';
import { selectorProblem } from '../../../shared/topic-selector.ts';
import { MERCURE_ALGS, type MercureAlg } from '../../../shared/domains/mercure.ts';

export { MERCURE_ALGS, type MercureAlg };

/** The Mercure protocol on the hub: off unless a key is given (see config.ts). */
export interface MercureOptions {
  /** Verifies publishers' tokens: the HMAC secret (HS256) or a PEM public key (RS256). */
  publisherKey?: string;
  /** Verifies subscribers' tokens; the publisher key when not given. */
  subscriberKey?: string;
  alg: MercureAlg;
  /** Subscribers without a token may subscribe (they receive public updates only). */
  anonymous: boolean;
  /** Subscription events and the subscriptions API. */
  subscriptions: boolean;
}

export const MERCURE_COOKIE = 'mercureAuthorization';

const selectors = z.array(z.string().refine((s) => selectorProblem(s) === null, { message: 'not a topic selector' })).max(1000);
/** The `mercure` claim: topic selectors a token may publish to and receive private updates of. */
const mercureClaim = z.object({
  publish: selectors.optional(),
  subscribe: selectors.optional(),
  payload: z.unknown().optional(),
});
export type MercureClaims = z.infer<typeof mercureClaim> & { exp?: number };

export type MercureRole = 'publisher' | 'subscriber';

/** Where a request's token is, in the protocol's order: header, then query parameter, then cookie. */
export interface PresentedToken {
  token: string;
  from: 'headers.authorization' | 'authorization' | 'cookie';
}

const unauthorized = (message: string, path: string, reason: string) =>
  new HubError(401, 'unauthorized', message, [{ path, reason }], { 'www-authenticate': 'Bearer realm="mercure"' });

/**
 * The token a request presents, or null (anonymous). A header that is there must be a bearer token;
 * the cookie is ignored on requests that reached us only through `--cors-origin '*'` (any site could
 * send it), and a cookie-authenticated publish must say where it comes from (CSRF: the Origin check
 * in security.ts then applies to it).
 */
export function presentedToken(req: FastifyRequest): PresentedToken | null {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw unauthorized('Authorization header must be "Bearer <JWT>"', 'headers.authorization', 'malformed');
    return { token: m[1]!, from: 'headers.authorization' };
  }
  const q = (req.query as Record<string, unknown> | undefined)?.authorization;
  if (q !== undefined) {
    if (typeof q !== 'string' || q === '') throw unauthorized('the authorization query parameter must be one JWT', 'authorization', 'malformed');
    return { token: q, from: 'authorization' };
  }
  const cookie = readCookie(req, MERCURE_COOKIE);
  if (cookie === undefined || cookie === '' || isWildcardCrossOrigin(req)) return null;
  if (req.method === 'POST' && req.headers.origin === undefined && req.headers.referer === undefined)
    throw unauthorized(`a publish authorized by the ${MERCURE_COOKIE} cookie needs an Origin or Referer header`, 'cookie', 'no Origin or Referer (CSRF protection)');
  return { token: cookie, from: 'cookie' };
}

type Key = Uint8Array | CryptoKey;

/** JWT verification for both roles, with the keys prepared once. */
export class MercureAuth {
  /** The keys, imported; rejects when a key is not one (the hub awaits it before it listens). */
  readonly ready: Promise<void>;
  private keys: Partial<Record<MercureRole, Key>> = {};

  constructor(readonly opts: MercureOptions) {
    this.ready = MercureAuth.importKeys(opts).then((keys) => {
      this.keys = keys;
    });
    // Awaited by the hub at start; a rejection is reported there, never as an unhandled one.
    this.ready.catch(() => undefined);
  }

  private static async importKeys(opts: MercureOptions): Promise<Partial<Record<MercureRole, Key>>> {
    const prepare = async (k: string | undefined, role: MercureRole): Promise<Key | undefined> => {
      if (k === undefined || k === '') return undefined;
      if (opts.alg === 'HS256') return new TextEncoder().encode(k);
      try {
        // Keys often travel through env variables with their line breaks written as "\n".
        return await importSPKI(k.replace(/\\n/g, '\n'), 'RS256');
      } catch (err) {
        throw new Error(`the Mercure ${role} key is not an RSA public key in PEM (SPKI, "-----BEGIN PUBLIC KEY-----"): ${(err as Error).message}`);
      }
    };
    const publisher = await prepare(opts.publisherKey, 'publisher');
    const subscriber = (await prepare(opts.subscriberKey, 'subscriber')) ?? publisher;
    return { publisher, subscriber };
  }

  async hasKey(role: MercureRole): Promise<boolean> {
    await this.ready;
    return this.keys[role] !== undefined;
  }

  /** The claims of a valid token; a 401 naming where the token came from otherwise. */
  async verify(presented: PresentedToken, role: MercureRole): Promise<MercureClaims> {
    await this.ready;
    const key = this.keys[role];
    if (!key) throw unauthorized(`this hub has no Mercure ${role} key`, presented.from, `no ${role} key configured (--mercure-${role}-jwt-key)`);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(presented.token, key, { algorithms: [this.opts.alg] }));
    } catch (err) {
      const reason =
        err instanceof joseErrors.JWTExpired
          ? 'token expired'
          : err instanceof joseErrors.JWSSignatureVerificationFailed
            ? 'signature does not verify with this hub\'s key'
            : err instanceof joseErrors.JOSEAlgNotAllowed
              ? `algorithm not allowed (this hub takes ${this.opts.alg})`
              : err instanceof joseErrors.JWTClaimValidationFailed
                ? `claim "${err.claim}" ${err.reason}`
                : 'not a valid JWT';
      throw unauthorized(`invalid Mercure ${role} token: ${reason}`, presented.from, reason);
    }
    // The reference hub also reads the claim under its namespaced name.
    const raw = payload.mercure ?? payload['https://mercure.rocks/'] ?? {};
    const claim = mercureClaim.safeParse(raw);
    if (!claim.success) {
      const reason = claim.error.issues.map((i) => `mercure.${i.path.join('.')}: ${i.message}`).join('; ');
      throw unauthorized(`invalid Mercure ${role} token: ${reason}`, presented.from, reason);
    }
    return { ...claim.data, ...(typeof payload.exp === 'number' ? { exp: payload.exp } : {}) };
  }
}
