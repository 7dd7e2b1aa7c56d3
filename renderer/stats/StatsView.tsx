import { useSyncExternalStore } from 'react';
import { useConsole } from '../app/context.ts';
import { describeScope, isUnscoped } from '../../shared/scope.ts';
import { Sparkline } from './Sparkline.tsx';
import type { Sample } from './sampler.ts';
import type { DeadLetter, WebhookEndpoint } from '../../shared/webhooks.ts';

/** Hub stats (admin) plus what this window itself receives (everyone). */
export function StatsView() {
  const { store, me, sampler } = useConsole();
  useSyncExternalStore(sampler.subscribe, () => sampler.version);
  const { samples, stats, error } = sampler;
  const isAdmin = me.role === 'admin';
  const last = samples[samples.length - 1];
  const series = (k: keyof Sample) => samples.map((s) => s[k]);
  // A scoped admin's stats cover its own scope only; the hub-wide figures are not sent to it.
  const scoped = stats !== null && !isUnscoped(stats.scope);
  return (
    <section className="stats" data-testid="stats">
      {!isAdmin && (
        <div className="banner info" data-testid="stats-admin-only">
          Hub-wide stats need an admin token; this window is signed in as {me.role === 'operator' ? 'an' : 'a'} {me.role}. Below is what this window receives.
        </div>
      )}
      {scoped && (
        <div className="banner info" data-testid="stats-scoped">
          Scoped to {describeScope(stats.scope)}: connections and head are this scope&apos;s; hub-wide rates and log size need an unscoped admin token.
        </div>
      )}
      {error && (
        <div className="banner warn" role="alert">
          {error}
        </div>
      )}
      <div className="stat-grid">
        <StatCard label="This window, events/s" value={fmt(last?.window)} values={series('window')} />
        {isAdmin && (
          <>
            <StatCard label="Connections" value={String(stats?.connections.total ?? '-')} values={series('connections')} />
            {!scoped && (
              <>
                <StatCard label="Publish/s" value={fmt(stats?.rates?.publish_per_s)} values={series('publish')} />
                <StatCard label="Delivery/s" value={fmt(stats?.rates?.delivery_per_s)} values={series('delivery')} />
                <StatCard label="Slow-consumer drops" value={String(stats?.connections.slow_consumer_disconnects ?? '-')} values={series('drops')} />
              </>
            )}
          </>
        )}
      </div>
      <dl className="facts">
        <dt>Buffered in this window</dt>
        <dd>
          {store.events.length.toLocaleString()} events{store.dropped ? ` (${store.dropped.toLocaleString()} older dropped)` : ''}
        </dd>
        <dt>Received since open</dt>
        <dd>{store.received.toLocaleString()}</dd>
        {store.invalid > 0 && (
          <>
            <dt>Rejected (schema)</dt>
            <dd>{store.invalid}</dd>
          </>
        )}
        {stats && (
          <>
            <dt>Hub</dt>
            <dd>
              {stats.hub_id}
              {stats.uptime_s !== undefined && ` · up ${Math.round(stats.uptime_s / 60)} min`}
              {stats.bus && ` · bus ${stats.bus.engine}${stats.bus.connected ? '' : ' (disconnected)'}`}
            </dd>
            <dt>Log</dt>
            <dd>
              {stats.log
                ? `${stats.log.events.toLocaleString()} events · seq ${stats.oldest_seq ?? stats.log.pruned_through + 1}–${stats.head_seq} · ${(stats.log.bytes / 1e6).toFixed(1)} MB`
                : `head seq ${stats.head_seq} in this scope`}
            </dd>
            <dt>Queues</dt>
            <dd>
              deepest {stats.connections.queue_depth_max} events · {(stats.connections.queue_bytes_total / 1024).toFixed(0)} KiB buffered
            </dd>
          </>
        )}
      </dl>
      {isAdmin && <Webhooks hooks={sampler.webhooks} dead={sampler.dead} />}
    </section>
  );
}

/** Where each webhook endpoint stands, and what it gave up on: a failing backend is seen here first. */
function Webhooks({ hooks, dead }: { hooks: WebhookEndpoint[]; dead: DeadLetter[] }) {
  if (!hooks.length) return null;
  return (
    <div className="webhooks" data-testid="webhooks">
      <h3>Webhooks</h3>
      <table className="plain">
        <thead>
          <tr>
            <th>Endpoint</th>
            <th>Types · scope</th>
            <th className="num">Delivered</th>
            <th className="num" title="Events in the log after this endpoint's cursor, before its type and scope filters: what it still has to look at">Behind</th>
            <th className="num">Dead</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {hooks.map((w) => (
            <tr key={w.id} data-testid="webhook-row" className={w.retrying ? 'failing' : ''}>
              <td title={w.id}>
                <code>{w.url}</code>
                {w.description && <span className="muted"> · {w.description}</span>}
              </td>
              <td>
                {w.types.join(', ') || 'all types'} · {describeScope(w.scope)}
              </td>
              <td className="num">{w.delivered.toLocaleString()}</td>
              <td className="num">{w.backlog.toLocaleString()}</td>
              <td className="num">{w.dead.toLocaleString()}</td>
              <td>
                {w.retrying ? (
                  <span className="warn-text">
                    retrying: {w.retrying} failed, next at {w.next_attempt_at ? new Date(w.next_attempt_at).toLocaleTimeString() : '?'} · {w.last_error}
                  </span>
                ) : (
                  'ok'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {dead.length > 0 && (
        <>
          <h3>Dead letters</h3>
          <p className="muted">Events an endpoint gave up on after every retry. Redeliver with `relaydesk webhooks retry &lt;endpoint&gt; &lt;seq&gt;`.</p>
          <table className="plain" data-testid="dead-letters">
            <thead>
              <tr>
                <th>When</th>
                <th>Endpoint</th>
                <th className="num">Seq</th>
                <th>Type</th>
                <th className="num">Attempts</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {dead.map((d) => (
                <tr key={`${d.endpoint_id}/${d.seq}`}>
                  <td>{new Date(d.dead_at).toLocaleTimeString()}</td>
                  <td>{hooks.find((w) => w.id === d.endpoint_id)?.url ?? d.endpoint_id}</td>
                  <td className="num">{d.seq}</td>
                  <td>{d.type}</td>
                  <td className="num">{d.attempts}</td>
                  <td>{d.last_error}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

function StatCard({ label, value, values }: { label: string; value: string; values: number[] }) {
  return (
    <figure className="stat" data-testid={`stat-${label.replace(/\W+/g, '-').toLowerCase()}`}>
      <figcaption>{label}</figcaption>
      <div className="stat-value">{value}</div>
      <Sparkline values={values} label={`${label} over the last two minutes`} />
    </figure>
  );
}

const fmt = (v: number | undefined) => (v === undefined ? '-' : v >= 100 ? Math.round(v).toLocaleString() : v.toFixed(1));
