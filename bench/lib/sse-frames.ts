import type { IncomingMessage } from 'node:http';

/**
 * Count the domain events (frames with an `id:`) arriving on an SSE response, and when `sample` is
 * set, record publish-to-receive latency from each event's `time` field.
 */
export function countFrames(res: IncomingMessage, onEvent: () => void, latencies?: number[]): void {
  res.setEncoding('utf8');
  let buf = '';
  res.on('data', (chunk: string) => {
    buf += chunk;
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, end);
      buf = buf.slice(end + 2);
      if (!frame.startsWith('id: ')) continue;
      onEvent();
      if (latencies) {
        const m = /"time":"([^"]+)"/.exec(frame);
        if (m) latencies.push(Date.now() - Date.parse(m[1]!));
      }
    }
  });
}
