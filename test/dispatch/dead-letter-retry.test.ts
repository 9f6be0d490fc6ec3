/**
 * A destination that always fails ends in dead letters after the configured attempts; once it is fixed (the PACS
 * is back), an admin's API call queues them again and they are delivered. Tokens: none 401, qa 403, admin 200.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/service.js';
import { startTestNode, storescu } from '../helpers/node.js';
import { startOrthanc, tempDir, waitFor, type Orthanc, PHANTOM_AXIAL, orthancDestination } from '../helpers/peers.js';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');

describe('dead letters and the admin retry', () => {
  let orthanc: Orthanc;
  let node: RunningNode;
  let dir: string;
  const api = (path: string, token?: string, method = 'GET') =>
    fetch(`http://127.0.0.1:${node.apiPort}${path}`, { method, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const states = () => node.db.prepare(`SELECT state, COUNT(*) AS n FROM dispatches GROUP BY state`).all();

  beforeAll(async () => {
    orthanc = await startOrthanc();
    await orthanc.down();
    dir = tempDir('dead');
    node = await startTestNode(dir, {
      destinations: [orthancDestination(orthanc)],
      dispatch: { intervalSeconds: 0.25, maxAttempts: 3, initialBackoffSeconds: 0.2, maxBackoffSeconds: 0.5 },
      api: { port: 0, tokens: [{ name: 'qa-desk', role: 'qa', sha256: sha('qa-secret') }, { name: 'it-admin', role: 'admin', sha256: sha('admin-secret') }] },
    });
    expect((await storescu(node, PHANTOM_AXIAL)).status).toBe(0);
    await waitFor(() => node.idle(), 60_000, 'the dispatches to die');
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ends each object as a dead letter after 3 attempts, with the reason, visible in the API', async () => {
    expect(states()).toEqual([{ state: 'dead', n: 5 }]);
    const res = await api('/api/dispatches?state=dead', 'qa-secret');
    expect(res.status).toBe(200);
    const rows = (await res.json()) as { attempts: number; lastError: string }[];
    expect(rows).toHaveLength(5);
    for (const r of rows) {
      expect(r.attempts).toBe(3);
      expect(r.lastError).toMatch(/ECONNREFUSED/);
    }
    expect(await (await api('/health')).json()).toEqual({ status: 'ok', outbox: { queued: 0, dead: 5 } });
  });

  it('lets only an admin retry: no token 401, qa 403', async () => {
    expect((await api('/api/dispatches/retry', undefined, 'POST')).status).toBe(401);
    expect((await api('/api/dispatches/retry', 'qa-secret', 'POST')).status).toBe(403);
    expect((await api('/api/dispatches?state=dead', 'wrong-token')).status).toBe(401);
    expect(states()).toEqual([{ state: 'dead', n: 5 }]);
  });

  it('delivers them once the PACS is back and an admin retries, and records who did it', async () => {
    await orthanc.restart();
    const res = await api('/api/dispatches/retry?destination=orthanc', 'admin-secret', 'POST');
    expect(await res.json()).toEqual({ queued: 5 });
    await waitFor(() => node.idle(), 60_000, 'delivery after the retry');
    expect(states()).toEqual([{ state: 'delivered', n: 5 }]);
    const studies = await orthanc.get<string[]>('/studies');
    expect((await orthanc.get<unknown[]>(`/studies/${studies[0]}/instances`)).length).toBe(5);
    expect(node.db.prepare(`SELECT message FROM events WHERE kind = 'api.dispatch.retry'`).pluck().all()).toEqual([
      expect.stringMatching(/^it-admin \(admin\) from .* queued 5 dead letter\(s\) again$/),
    ]);
  });
});
