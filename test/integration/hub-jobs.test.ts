import { describe, it, expect, afterEach } from 'vitest';
import { startTestHub, api, publish, sleep, createToken, type TestHub } from '../helpers/hub.ts';
import { Subscriber } from '../helpers/sse.ts';
import type { ProjectionRow, StatePage } from '../../shared/state.ts';
import { jobTopic } from '../../shared/domains/job.ts';

let t: TestHub | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const fields = (r: { body: { error?: { fields?: { path: string; reason: string }[] } } }) => r.body.error?.fields ?? [];
const jobs = async (url: string, token?: string): Promise<ProjectionRow[]> => {
  const r = await api<StatePage>(url, '/v1/state/jobs?limit=100', { token });
  expect(r.status).toBe(200);
  return r.body.jobs ?? [];
};
const job = async (url: string, id: string) => (await jobs(url)).find((r) => r.data.job_id === id);

describe('jobs', () => {
  it('refuses bad job data, naming the field and why', async () => {
    t = await startTestHub();
    const cases: [unknown, string, RegExp][] = [
      [{ type: 'job.progress', data: { job_id: 'j1', progress: 150, stage: 'drafting' } }, 'data.progress', /0 to 100/],
      [{ type: 'job.progress', data: { job_id: 'j1', progress: -1, stage: 'drafting' } }, 'data.progress', /0 to 100/],
      [{ type: 'job.progress', data: { job_id: 'j1', progress: '40%', stage: 'drafting' } }, 'data.progress', /number/],
      [{ type: 'job.progress', data: { job_id: 'j1', progress: 40 } }, 'data.stage', /./],
      [{ type: 'job.failed', data: { job_id: 'j1', error: 'timed out' } }, 'data.retryable', /true or false/],
      [{ type: 'job.failed', data: { job_id: 'j1', error: '', retryable: true } }, 'data.error', /empty/],
      [{ type: 'job.queued', data: { title: 'no id' } }, 'data.job_id', /./],
      [{ type: 'job.started', data: { job_id: 'j1' } }, 'type', /known: job\.queued, job\.progress, job\.completed, job\.failed, job\.cancelled/],
    ];
    for (const [body, path, reason] of cases) {
      const r = await publish(t.url, body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(fields(r).map((f) => f.path), JSON.stringify(body)).toEqual([path]);
      expect(fields(r)[0]!.reason).toMatch(reason);
    }
    // Nothing of the refused events reached the log or the state.
    expect((await api(t.url, '/v1/events?type=job.*')).body.events).toEqual([]);
    expect(await jobs(t.url)).toEqual([]);
  });

  it('keeps one state row per job: queued, progress, the outcome, and a retry starting the row over', async () => {
    t = await startTestHub();
    const keys = { user_id: 'u1' };
    expect((await publish(t.url, { type: 'job.queued', data: { job_id: 'gen-1', title: 'Episode 12', kind: 'script.generate' }, ...keys })).status).toBe(201);
    expect(await job(t.url, 'gen-1')).toMatchObject({ user_id: 'u1', data: { state: 'queued', progress: 0, title: 'Episode 12' } });

    await publish(t.url, [
      { type: 'job.progress', data: { job_id: 'gen-1', progress: 20, stage: 'outline', message: 'outlining' }, ...keys },
      { type: 'job.progress', data: { job_id: 'gen-1', progress: 55.5, stage: 'drafting' }, ...keys },
    ]);
    expect((await job(t.url, 'gen-1'))!.data).toMatchObject({ state: 'running', progress: 55.5, stage: 'drafting', title: 'Episode 12', last_type: 'job.progress' });

    // A failure keeps how far the job got, says whether a retry can help, and is an alert by default.
    const failed = await publish(t.url, { type: 'job.failed', data: { job_id: 'gen-1', error: 'model rate limit (429)', retryable: true }, ...keys });
    expect(failed.status).toBe(201);
    const row = (await job(t.url, 'gen-1'))!;
    expect(row.data).toMatchObject({ state: 'failed', progress: 55.5, stage: 'drafting', error: 'model rate limit (429)', retryable: true });
    expect(Date.parse(String(row.data.finished_at))).toBeGreaterThanOrEqual(Date.parse(row.created_at));
    const [failedEv] = (await api(t.url, '/v1/events?type=job.failed')).body.events;
    expect(failedEv.priority).toBe('high');
    // A publisher that says otherwise is believed.
    await publish(t.url, { type: 'job.failed', data: { job_id: 'gen-x', error: 'empty input', retryable: false }, priority: 'low', ...keys });
    expect((await api(t.url, '/v1/events?type=job.failed&order=desc&limit=1')).body.events[0].priority).toBe('low');

    // The retry is queued again under the same id: a fresh row (no stale error), then it completes.
    await publish(t.url, [
      { type: 'job.queued', data: { job_id: 'gen-1', title: 'Episode 12', attempt: 2 }, ...keys },
      { type: 'job.progress', data: { job_id: 'gen-1', progress: 90, stage: 'review' }, ...keys },
      { type: 'job.completed', data: { job_id: 'gen-1', result: { words: 1800 } }, ...keys },
    ]);
    const done = (await job(t.url, 'gen-1'))!;
    expect(done.data).toMatchObject({ state: 'completed', progress: 100, attempt: 2, result: { words: 1800 } });
    expect(done.data.error).toBeUndefined();

    await publish(t.url, { type: 'job.cancelled', data: { job_id: 'gen-2', reason: 'not needed' }, ...keys });
    expect((await job(t.url, 'gen-2'))!.data).toMatchObject({ state: 'cancelled', reason: 'not needed' });

    // Jobs are scoped like everything else: another user's console does not see them.
    const other = await createToken(t.url, 'subscriber', { user_id: 'u2' });
    expect(await jobs(t.url, other)).toEqual([]);
    // And they are in the connect-time snapshot.
    const sub = new Subscriber(t.url, { snapshot: '1', type: 'job.*' });
    const initial = await sub.waitFor('initial');
    expect((initial.data.jobs as ProjectionRow[]).map((r) => [r.data.job_id, r.data.state]).sort()).toEqual([
      ['gen-1', 'completed'],
      ['gen-2', 'cancelled'],
      ['gen-x', 'failed'],
    ]);
    sub.close();
  });

  it('a console following one job resumes by Last-Event-ID across a hub restart: every report once, in order', async () => {
    t = await startTestHub({ retryMs: 200 });
    // The job's own topic (jobs/<id>) besides its user: a page showing this one job follows the topic.
    const mine = { user_id: 'writer-7', topics: [jobTopic('gen-42')] };
    const progress = (job: string, p: number, keys: Record<string, unknown>) => ({ type: 'job.progress', data: { job_id: job, progress: p, stage: p < 50 ? 'outline' : 'drafting' }, ...keys });
    await publish(t.url, { type: 'job.queued', data: { job_id: 'gen-42', title: 'Launch explainer' }, ...mine });
    // Another job of the same user runs alongside; the follower of gen-42 never sees it.
    await publish(t.url, { type: 'job.queued', data: { job_id: 'gen-43' }, user_id: 'writer-7', topics: [jobTopic('gen-43')] });
    const follower = new Subscriber(t.url, { topic: jobTopic('gen-42'), lastEventId: '0' });
    await follower.waitForEvents(1);
    await publish(t.url, [progress('gen-42', 10, mine), progress('gen-43', 10, { user_id: 'writer-7', topics: [jobTopic('gen-43')] }), progress('gen-42', 30, mine)]);
    await follower.waitForEvents(3);

    await t.restart();
    // The eventsource client reconnects by itself, sending the id of the last event it saw.
    await publish(t.url, [progress('gen-42', 60, mine), progress('gen-42', 90, mine), { type: 'job.completed', data: { job_id: 'gen-42', message: '1,800 words' }, ...mine }]);
    await follower.waitForEvents(6, 15_000);
    await sleep(200);
    expect(follower.opened).toBeGreaterThanOrEqual(2);
    expect(follower.named('force_disconnect')[0]?.data.reason).toBe('shutdown');
    const seen = follower.events;
    expect(seen.map((e) => [e.type, e.data.job_id, e.data.progress])).toEqual([
      ['job.queued', 'gen-42', undefined],
      ['job.progress', 'gen-42', 10],
      ['job.progress', 'gen-42', 30],
      ['job.progress', 'gen-42', 60],
      ['job.progress', 'gen-42', 90],
      ['job.completed', 'gen-42', undefined],
    ]);
    expect(new Set(seen.map((e) => e.seq)).size).toBe(6);
    follower.close();
    // The state the restarted hub serves is the job's last word.
    expect((await job(t.url, 'gen-42'))!.data).toMatchObject({ state: 'completed', progress: 100, message: '1,800 words' });
  });
});
