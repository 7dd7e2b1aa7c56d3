import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { HubError } from '../../errors.ts';
import { SESSION_COOKIE, readCookie } from '../auth.ts';
import { route } from '../contract.ts';
import { CONSOLE_CSP } from '../security.ts';
import type { RouteContext } from '../app.ts';

/**
 * The console for browsers: `/auth/exchange?code=` trades the one-time code printed by `serve` for
 * an HttpOnly session cookie and redirects to `/`, so the secret never stays in the address bar.
 */
export function consoleRoutes(app: FastifyInstance, { hub }: Pick<RouteContext, 'hub'>, rendererDir: string | undefined): void {
  route(app, 'exchangeLoginCode', {}, async (req, reply) => {
    const { code } = req.query;
    const session = hub.tokens.redeemLoginCode(code);
    if (!session)
      throw new HubError(401, 'unauthorized', 'this login link was already used or has expired; run `relaydesk login-url` for a new one', [
        { path: 'code', reason: 'unknown, used or expired' },
      ]);
    reply.header('set-cookie', `${SESSION_COOKIE}=${encodeURIComponent(session)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${30 * 24 * 3600}`);
    reply.header('cache-control', 'no-store');
    return reply.code(303).header('location', '/').send(undefined);
  });

  route(app, 'logout', {}, async (req, reply) => {
    const s = readCookie(req, SESSION_COOKIE);
    if (s) hub.tokens.endSession(s);
    reply.header('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    return reply.code(204).send(undefined);
  });

  if (!rendererDir) {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send('RelayDesk hub is running, but the console bundle is not built. Run `npm run build:renderer` (npm start does this for you).\n'),
    );
    return;
  }
  // Loaded with the other plugins when the app starts (ready/listen).
  app.register(fastifyStatic, {
    root: rendererDir,
    prefix: '/',
    index: ['index.html'],
    setHeaders: (res, path) => {
      res.setHeader('content-security-policy', CONSOLE_CSP);
      res.setHeader('cache-control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });
}
