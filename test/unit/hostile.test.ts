import { describe, it, expect } from 'vitest';
import { IdleEvictor, maxConnectionsFromLimits, defaultMaxConnections, FALLBACK_MAX_CONNECTIONS } from '../../electron/hub/http/connections.ts';
import { hostnameOf } from '../../electron/hub/http/security.ts';
import { scopeWithin, scopeExcess, isUnscoped, inScope, SCOPE_KEYS } from '../../shared/scope.ts';
import { formatStats } from '../../electron/cli/stats.ts';

describe('idle-connection eviction at the cap', () => {
  it('admits freely below the cap', () => {
    const g = new IdleEvictor<string>(3);
    for (const k of ['a', 'b', 'c']) expect(g.open(k)).toEqual({ evict: [], refuse: false });
    expect(g.size).toBe(3);
  });

  it('at the cap closes the connection idle the longest, never a busy one', () => {
    const g = new IdleEvictor<string>(3);
    g.open('a');
    g.open('b');
    g.open('c');
    g.requestStarted('a'); // a publisher mid-request (or an SSE stream)
    expect(g.open('d')).toEqual({ evict: ['b'], refuse: false });
    expect(g.open('e')).toEqual({ evict: ['c'], refuse: false });
    expect(g.size).toBe(3);
    expect(g.evicted).toBe(2);
  });

  it('counts idleness from the end of the last request, not from the open', () => {
    const g = new IdleEvictor<string>(2);
    g.open('old');
    g.open('new');
    g.requestStarted('old');
    g.requestEnded('old'); // kept alive, used just now
    expect(g.open('x').evict).toEqual(['new']);
  });

  it('keeps a connection busy while any pipelined request is in flight', () => {
    const g = new IdleEvictor<string>(2);
    g.open('a');
    g.open('b');
    g.requestStarted('a');
    g.requestStarted('a');
    g.requestEnded('a');
    expect(g.open('c').evict).toEqual(['b']);
    expect(g.open('d')).toEqual({ evict: ['c'], refuse: false });
    g.requestEnded('a'); // idle now, after d
    expect(g.open('e').evict).toEqual(['d']);
    expect(g.open('f').evict).toEqual(['a']);
  });

  it('refuses the newcomer only when every connection is busy', () => {
    const g = new IdleEvictor<number>(2);
    g.open(1);
    g.open(2);
    g.requestStarted(1);
    g.requestStarted(2);
    expect(g.open(3)).toEqual({ evict: [], refuse: true });
    expect(g.refused).toBe(1);
    g.close(2);
    expect(g.open(4)).toEqual({ evict: [], refuse: false });
  });

  it('forgets closed connections and ignores events for unknown ones', () => {
    const g = new IdleEvictor<string>(2);
    g.open('a');
    g.close('a');
    g.requestStarted('a');
    g.requestEnded('a');
    expect([g.size, g.idleCount]).toEqual([0, 0]);
  });

  it('defaults to the open-file soft limit minus 64', () => {
    const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n';
    expect(maxConnectionsFromLimits(limits)).toBe(960);
    expect(maxConnectionsFromLimits(limits.replace('1024  ', 'unlimited'))).toBe(FALLBACK_MAX_CONNECTIONS);
    expect(maxConnectionsFromLimits('nothing here')).toBe(FALLBACK_MAX_CONNECTIONS);
    expect(defaultMaxConnections('/nonexistent/limits')).toBe(FALLBACK_MAX_CONNECTIONS);
    expect(defaultMaxConnections()).toBeGreaterThan(0);
  });
});

describe('Host header parsing', () => {
  it('takes exactly host[:port] or [v6][:port]', () => {
    expect(hostnameOf('localhost')).toBe('localhost');
    expect(hostnameOf('LocalHost:7700')).toBe('localhost');
    expect(hostnameOf('[::1]:7700')).toBe('::1');
    expect(hostnameOf('10.0.0.2:80')).toBe('10.0.0.2');
    for (const bad of ['localhost:1@evil', '[::1]evil.com', '[::1]:1x', 'a:b:c', 'localhost:', 'localhost:123456', '[evil]', '', ' localhost', 'host\tx', 'é.example'])
      expect(hostnameOf(bad), bad).toBeNull();
  });
});

describe('scope containment', () => {
  it('says which keys a scope would widen', () => {
    const admin = { user_id: '7', strategy_ids: ['1', '2'] };
    expect(scopeExcess({}, admin)).toEqual(['user_id', 'strategy_ids']);
    expect(scopeExcess({ user_id: '7' }, admin)).toEqual(['strategy_ids']);
    expect(scopeExcess({ user_id: '8', strategy_ids: ['1'] }, admin)).toEqual(['user_id']);
    expect(scopeExcess({ user_id: '7', strategy_ids: ['1', '3'] }, admin)).toEqual(['strategy_ids']);
    expect(scopeWithin({ user_id: '7', strategy_ids: ['2'], store_ids: ['5'] }, admin)).toBe(true);
    expect(scopeWithin(admin, admin)).toBe(true);
    expect(scopeWithin({ store_ids: ['1'] }, {})).toBe(true);
    expect(scopeExcess({ store_ids: ['1', '2'] }, { store_ids: ['1'] })).toEqual(['store_ids']);
  });

  it('agrees with inScope: whatever a contained scope sees, the outer one sees', () => {
    const values = [null, '1', '2', '3'];
    const scopes = [{}, { user_id: '1' }, { strategy_ids: ['1'] }, { strategy_ids: ['1', '2'] }, { store_ids: ['2'] }, { user_id: '2', store_ids: ['1', '3'] }];
    for (const inner of scopes)
      for (const outer of scopes) {
        if (!scopeWithin(inner, outer)) continue;
        for (const user_id of values) for (const strategy_id of values) for (const store_id of values) {
          const ev = { user_id, strategy_id, store_id };
          if (inScope(inner, ev)) expect(inScope(outer, ev), JSON.stringify({ inner, outer, ev })).toBe(true);
        }
      }
  });

  it('knows an unscoped token, from the one list of keys', () => {
    expect(isUnscoped({})).toBe(true);
    for (const k of SCOPE_KEYS) expect(isUnscoped({ [k.field]: k.field === 'user_id' ? '1' : ['1'] })).toBe(false);
  });
});

describe('relaydesk stats', () => {
  it('prints a scoped admin\'s stats with a banner instead of failing on missing hub-wide fields', () => {
    const text = formatStats({ hub_id: 'hub-x', scope: { user_id: '7' }, head_seq: 4, connections: { total: 1, by_scope: { 'user=7': 1 }, queue_depth_max: 0, queue_bytes_total: 0 } });
    expect(text).toContain('scoped to user=7');
    expect(text).toContain('head seq 4');
  });
});
