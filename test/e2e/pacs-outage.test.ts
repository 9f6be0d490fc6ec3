/**
 * The outbox against real outages. (1) Orthanc is down while a case finishes and comes back later: every result
 * arrives exactly once, and the healthy local-folder destination got its copy meanwhile. (2) The node is killed
 * (SIGKILL) with items in its outbox and restarted: all of them are delivered, none twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/service.js';
import { startTestNode, storescu } from '../helpers/node.js';
import { REPO, freePort, run, startOrthanc, stopProcess, tempDir, waitFor, type Orthanc, PHANTOM_AXIAL, orthancDestination } from '../helpers/peers.js';

const RETRY_FAST = { intervalSeconds: 0.25, initialBackoffSeconds: 0.5, maxBackoffSeconds: 2, maxAttempts: 100 };

async function instancesIn(orthanc: Orthanc): Promise<number> {
  const studies = await orthanc.get<string[]>('/studies');
  let n = 0;
  for (const s of studies) n += (await orthanc.get<unknown[]>(`/studies/${s}/instances`)).length;
  return n;
}

describe('a PACS outage while a case finishes', () => {
  let orthanc: Orthanc;
  let node: RunningNode;
  let dir: string;
  const rows = (dest: string) =>
    node.db
      .prepare(`SELECT state, attempts, delivered_at AS deliveredAt FROM dispatches WHERE destination = ? ORDER BY id`)
      .all(dest) as { state: string; attempts: number; deliveredAt: string | null }[];

  beforeAll(async () => {
    orthanc = await startOrthanc();
    dir = tempDir('outage');
    node = await startTestNode(dir, {
      destinations: [
        { name: 'local-folder', type: 'folder', path: 'outbox' },
        orthancDestination(orthanc),
      ],
      dispatch: RETRY_FAST,
    });
    await orthanc.down();
    expect((await storescu(node, PHANTOM_AXIAL)).status).toBe(0);
    await waitFor(() => rows('orthanc').length === 5 && rows('orthanc').every((r) => r.attempts >= 2), 60_000, 'failed attempts');
    await orthanc.restart();
    await waitFor(() => node.idle(), 60_000, 'delivery after the outage');
  }, 180_000);

  afterAll(async () => {
    await node?.stop();
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivered to the healthy destination on time, while the PACS was down', () => {
    const folder = rows('local-folder');
    const pacs = rows('orthanc');
    expect(folder.map((r) => [r.state, r.attempts])).toEqual(Array(5).fill(['delivered', 1]));
    const lastFolder = folder.map((r) => r.deliveredAt!).sort().at(-1)!;
    for (const r of pacs) expect(r.deliveredAt! > lastFolder).toBe(true);
  });

  it('delivers every result to the PACS exactly once after it comes back', async () => {
    expect(rows('orthanc').every((r) => r.state === 'delivered' && r.attempts >= 3)).toBe(true);
    expect(await instancesIn(orthanc)).toBe(5);
  });
});

describe('the node killed with items in its outbox', () => {
  let orthanc: Orthanc;
  let dir: string;
  let serve: ChildProcess | undefined;
  const startServe = () => {
    serve = spawn(process.execPath, [join(REPO, 'dist/src/cli.js'), '--config', join(dir, 'config.yaml'), 'serve'], { stdio: 'ignore' });
    return serve;
  };
  const db = () => new Database(join(dir, 'data', 'node.sqlite'), { readonly: true, fileMustExist: true });
  const count = (sql: string) => {
    try {
      const d = db();
      try {
        return d.prepare(sql).pluck().get() as number;
      } finally {
        d.close();
      }
    } catch {
      return -1; // not created yet
    }
  };

  beforeAll(async () => {
    orthanc = await startOrthanc();
    dir = tempDir('sigkill');
    const port = await freePort();
    writeFileSync(
      join(dir, 'config.yaml'),
      JSON.stringify({
        dataDir: 'data',
        receive: { port, allowedCallingAeTitles: ['CT_SCANNER'] },
        ingest: { quietSeconds: 1, sweepIntervalSeconds: 0.25 },
        destinations: [orthancDestination(orthanc)],
        dispatch: RETRY_FAST,
        log: { level: 'error' },
      }),
    );
    await orthanc.down();
    startServe();
    await waitFor(async () => (await run('echoscu', ['-aet', 'CT_SCANNER', '-aec', 'PMCT_ICH', '127.0.0.1', String(port)])).status === 0, 30_000, 'serve');
    expect((await run('storescu', ['-aet', 'CT_SCANNER', '-aec', 'PMCT_ICH', '127.0.0.1', String(port), ...PHANTOM_AXIAL])).status).toBe(0);
    await waitFor(() => count(`SELECT COUNT(*) FROM dispatches WHERE attempts >= 1 AND state != 'delivered'`) === 5, 60_000, 'queued items');
    await stopProcess(serve!, 'SIGKILL');
    await orthanc.restart();
    startServe();
    await waitFor(() => count(`SELECT COUNT(*) FROM dispatches WHERE state = 'delivered'`) === 5, 60_000, 'delivery after the restart');
  }, 180_000);

  afterAll(async () => {
    if (serve) await stopProcess(serve);
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every queued item after the restart, none twice', async () => {
    expect(count(`SELECT COUNT(*) FROM dispatches`)).toBe(5);
    expect(await instancesIn(orthanc)).toBe(5);
  });
});
