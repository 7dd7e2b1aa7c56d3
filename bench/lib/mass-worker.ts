// One process of the mass-subscriber bench (see mass-subscribers.ts): holds many raw SSE sockets,
// each bound to one of several loopback source addresses so no single address runs out of
// ephemeral ports. Per socket it keeps a frame count and, once armed, the wall-clock time the
// broadcast marker arrived. Talks to its parent over IPC:
//   <- {cmd:'open'}            open the sockets (at most WINDOW connecting at once); progress follows
//   -> {type:'progress', connected, failed}
//   <- {cmd:'frames'}          -> {type:'frames', min, max, closed}   (frames per socket, open ones)
//   <- {cmd:'arm', marker}     start watching for `marker`
//   <- {cmd:'got'}             -> {type:'got', missing}  (sockets that have not seen the marker yet)
//   <- {cmd:'latencies', t0}   -> {type:'latencies', ms: number[], missing}  (arrival − t0, per socket)
//   <- {cmd:'close'}           destroy every socket, reply, exit
import { connect, type Socket } from 'node:net';

const [url, path, countArg, addressesArg] = process.argv.slice(2) as [string, string, string, string];
const n = Number(countArg);
const addresses = addressesArg.split(',');
const u = new URL(url);
const port = Number(u.port);
const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`);
/** Sockets connecting at once: enough to keep the server busy, few enough for its listen backlog. */
const WINDOW = Number(process.env.MASS_WINDOW ?? 128);
const READ_BUFFER = Buffer.alloc(256 * 1024);
const LF2 = Buffer.from('\n\n');
const now = () => performance.timeOrigin + performance.now();

let marker: Buffer | null = null;

/** Kept small on purpose: tens of thousands of these live in one process. */
class Conn {
  frames = 0;
  last = 0;
  closed = false;
  failed = false;
  seenStatus = false;
  /** Wall-clock ms the marker arrived; 0 until then. */
  got = 0;
  /** The end of the previous read, in case the marker straddles two reads. */
  tail: Buffer | null = null;
  socket: Socket;

  constructor(localAddress: string, onReady: (c: Conn) => void) {
    this.socket = connect({
      host: u.hostname,
      port,
      localAddress,
      onread: { buffer: READ_BUFFER, callback: (len) => (this.read(READ_BUFFER.subarray(0, len), onReady), true) },
    });
    this.socket.setNoDelay(true);
    this.socket.on('error', () => {
      if (this.frames < 2) this.failed = true;
    });
    this.socket.on('close', () => {
      this.closed = true;
      if (this.frames < 2 && !this.failed) this.failed = true;
      if (this.frames < 2) onReady(this);
    });
    this.socket.write(request);
  }

  private read(buf: Buffer, onReady: (c: Conn) => void): void {
    const before = this.frames;
    if (!this.seenStatus) {
      // A refusal (503 at a connection cap, 429, …) is a failure, not a subscriber that never speaks.
      this.seenStatus = true;
      if (buf.toString('latin1', 9, 12) !== '200') {
        this.failed = true;
        this.socket.destroy();
        return;
      }
    }
    if (this.last === 10 && buf[0] === 10) this.frames++;
    let i = -1;
    while ((i = buf.indexOf(LF2, i + 1)) !== -1) this.frames++;
    this.last = buf[buf.length - 1]!;
    // Two frames: the `retry:` hint and the `connection` event (the headers carry no blank line
    // inside the body count because they end in CRLF CRLF).
    if (before < 2 && this.frames >= 2) onReady(this);
    if (marker && !this.got) {
      if (buf.indexOf(marker) !== -1 || (this.tail && Buffer.concat([this.tail, buf.subarray(0, marker.length)]).indexOf(marker) !== -1)) this.got = now();
      else this.tail = Buffer.from(buf.subarray(Math.max(0, buf.length - marker.length + 1)));
    }
  }
}

const conns: Conn[] = [];
let ready = 0;
let failed = 0;

function open(): Promise<void> {
  return new Promise((resolve) => {
    let started = 0;
    let lastReport = 0;
    const report = (force = false) => {
      const t = Date.now();
      if (force || t - lastReport > 200) {
        lastReport = t;
        process.send!({ type: 'progress', connected: ready, failed });
      }
    };
    const onReady = (c: Conn) => {
      if (c.failed) failed++;
      else ready++;
      report();
      if (started < n) start();
      else if (ready + failed === n) {
        report(true);
        resolve();
      }
    };
    const start = () => {
      conns.push(new Conn(addresses[started % addresses.length]!, onReady));
      started++;
    };
    if (n === 0) {
      report(true);
      resolve();
    }
    while (started < Math.min(WINDOW, n)) start();
  });
}

process.on('message', (m: { cmd: string; marker?: string; t0?: number }) => {
  if (m.cmd === 'open') void open();
  if (m.cmd === 'frames') {
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    let closed = 0;
    for (const c of conns) {
      if (c.closed) {
        closed++;
        continue;
      }
      if (c.frames < min) min = c.frames;
      if (c.frames > max) max = c.frames;
    }
    process.send!({ type: 'frames', min, max, closed });
  }
  if (m.cmd === 'arm') {
    marker = Buffer.from(m.marker!);
    for (const c of conns) {
      c.got = 0;
      c.tail = null;
    }
    process.send!({ type: 'armed' });
  }
  if (m.cmd === 'got') {
    let missing = 0;
    for (const c of conns) if (!c.got) missing++;
    process.send!({ type: 'got', missing });
  }
  if (m.cmd === 'latencies') {
    const ms: number[] = [];
    let missing = 0;
    for (const c of conns) {
      if (c.got) ms.push(c.got - m.t0!);
      else missing++;
    }
    process.send!({ type: 'latencies', ms, missing });
  }
  if (m.cmd === 'close') {
    for (const c of conns) c.socket.destroy();
    process.send!({ type: 'closed' }, () => process.exit(0));
  }
});
process.send!({ type: 'started' });
