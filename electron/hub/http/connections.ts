import { readFileSync } from 'node:fs';
import type { Server, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

/** Descriptors kept back from the connection cap for the log, its WAL, the lock file, Redis and logs. */
const RESERVED_FDS = 64;
/** The cap when the open-file limit cannot be read (not Linux) or is unlimited. */
export const FALLBACK_MAX_CONNECTIONS = 4096;

/**
 * The default connection cap: the process's open-file soft limit minus what the hub needs for
 * itself. A socket past the limit cannot even be accepted (EMFILE), and then every new request
 * fails; below the cap the hub can still accept one and make room for it.
 */
export function defaultMaxConnections(limitsFile = '/proc/self/limits'): number {
  let text: string;
  try {
    text = readFileSync(limitsFile, 'utf8');
  } catch {
    return FALLBACK_MAX_CONNECTIONS;
  }
  return maxConnectionsFromLimits(text);
}

/** Parses the "Max open files  <soft>  <hard>  files" line of /proc/<pid>/limits. */
export function maxConnectionsFromLimits(text: string): number {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m || m[1] === 'unlimited') return FALLBACK_MAX_CONNECTIONS;
  return Math.max(16, Number(m[1]) - RESERVED_FDS);
}

/**
 * Which connections to close when a new one arrives at the cap: the core of the idle-socket guard,
 * without sockets so it can be tested alone. A connection is busy while a request is in flight on
 * it (an SSE stream is a request that lasts as long as its connection, so it is always busy), and
 * idle otherwise: just opened and sending nothing, or kept alive between requests.
 *
 * At the cap, a newcomer is let in by closing the connections idle the longest, oldest first: an
 * idle socket costs its holder nothing to reopen, while refusing the newcomer could lock out a real
 * publisher behind a crowd of sockets that never send a request. Only when every connection is busy
 * is the newcomer refused.
 */
export class IdleEvictor<K> {
  private readonly inFlight = new Map<K, number>();
  /** Idle connections, in the order they became idle (first = idle the longest). */
  private readonly idle = new Set<K>();
  evicted = 0;
  refused = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.inFlight.size;
  }

  get idleCount(): number {
    return this.idle.size;
  }

  /** A new connection: returns the connections to close first, and whether to refuse this one. */
  open(k: K): { evict: K[]; refuse: boolean } {
    const evict: K[] = [];
    for (const old of this.idle) {
      if (this.inFlight.size - evict.length < this.max) break;
      evict.push(old);
    }
    for (const old of evict) this.close(old);
    this.evicted += evict.length;
    if (this.inFlight.size >= this.max) {
      this.refused++;
      return { evict, refuse: true };
    }
    this.inFlight.set(k, 0);
    this.idle.add(k);
    return { evict, refuse: false };
  }

  requestStarted(k: K): void {
    const n = this.inFlight.get(k);
    if (n === undefined) return;
    this.inFlight.set(k, n + 1);
    this.idle.delete(k);
  }

  requestEnded(k: K): void {
    const n = this.inFlight.get(k);
    if (n === undefined || n === 0) return;
    this.inFlight.set(k, n - 1);
    // Back to the end of the line: idle from now, not from when it opened.
    if (n === 1) this.idle.add(k);
  }

  close(k: K): void {
    this.inFlight.delete(k);
    this.idle.delete(k);
  }
}

/**
 * Caps the server's connections at `max`, closing idle ones to make room (see IdleEvictor). Node's
 * own `server.maxConnections` would refuse the newcomer instead, which is what lets idle sockets
 * lock everyone out.
 */
export function guardConnections(server: Server, max: number, log: Pick<Logger, 'warn'>): IdleEvictor<Socket> {
  const guard = new IdleEvictor<Socket>(max);
  let warnedAt = 0;
  server.on('connection', (socket: Socket) => {
    const { evict, refuse } = guard.open(socket);
    for (const s of evict) s.destroy();
    if (refuse) socket.destroy();
    else socket.once('close', () => guard.close(socket));
    if ((evict.length || refuse) && Date.now() - warnedAt > 10_000) {
      warnedAt = Date.now();
      log.warn(
        { max_connections: max, evicted_total: guard.evicted, refused_total: guard.refused },
        `connection cap (${max}) reached: ${refuse ? 'every connection is busy, refusing new ones' : 'closing the longest-idle connections to make room'}`,
      );
    }
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    guard.requestStarted(socket);
    res.once('close', () => guard.requestEnded(socket));
  });
  return guard;
}
