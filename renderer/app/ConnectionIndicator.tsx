import { useConsole } from './context.ts';
import { useNow } from './hooks.ts';
import { useSlices } from '../stream/store.ts';
import { ago } from '../stream/describe.ts';

/** Live / reconnecting (attempt, elapsed, next try) / offline, plus the age of the last heartbeat. */
export function ConnectionIndicator() {
  const { store, retry } = useConsole();
  useSlices(store, 'link');
  const now = useNow(1_000);
  const s = store.link;
  if (!s) return null;
  const hb = s.lastHeartbeatAt ? `heartbeat ${ago(now - s.lastHeartbeatAt)} ago` : 'no heartbeat yet';
  const lat = s.state === 'live' && store.latencyMs !== null ? ` · latency ${Math.max(0, Math.round(store.latencyMs))} ms` : '';
  let label: string;
  if (s.state === 'live') label = 'Live';
  else if (s.state === 'connecting') label = 'Connecting…';
  else if (s.state === 'reconnecting')
    label = `Reconnecting · attempt ${s.attempt} · down ${ago(now - (s.downSince ?? now))}${s.nextAttemptAt && s.nextAttemptAt > now ? ` · next in ${Math.ceil((s.nextAttemptAt - now) / 1000)}s` : ''}`;
  else label = `Offline${s.downSince ? ` · ${ago(now - s.downSince)}` : ''}`;
  return (
    <div className={`link link-${s.state}`} role="status" aria-live="polite" data-testid="connection" data-state={s.state}>
      <span className="dot" aria-hidden />
      <span className="link-label">{label}</span>
      <span className="link-hb" data-testid="heartbeat-age">
        {hb}
        {lat}
      </span>
      {s.reason && s.state !== 'live' && <span className="link-reason" data-testid="connection-reason" title={s.reason}>{s.reason}</span>}
      {s.canRetry && s.state !== 'live' && (
        <button type="button" onClick={retry} data-testid="retry">
          Retry now
        </button>
      )}
    </div>
  );
}
