/**
 * The SCP with real dcmtk peers: AE allow-list at association time, C-ECHO, and durability: on a full disk (a
 * real tmpfs mounted as the spool) a C-STORE is not answered Success, and every instance answered Success before
 * is intact on disk and in the database.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/database.js';
import { commitReceived } from '../../src/ingest/registry.js';
import { createLogger } from '../../src/log/logger.js';
import { startScp, type RunningScp } from '../../src/receive/scp.js';
import { CQ500, run, tempDir } from '../helpers/peers.js';

const logger = createLogger('error');

async function scpIn(dir: string, db: Db, allowed: string[]): Promise<RunningScp> {
  const spool = join(dir, 'spool');
  return startScp({
    host: '127.0.0.1',
    port: 0,
    aeTitle: 'PMCT_ICH',
    allowedCallingAeTitles: allowed,
    maxPduLength: 131072,
    tmpDir: join(spool, '.tmp'),
    logger,
    commit: (obj) => commitReceived(db, spool, obj, logger).status,
  });
}

describe('association policy', () => {
  let dir: string;
  let db: Db;
  let scp: RunningScp;
  beforeAll(async () => {
    dir = tempDir('scp');
    db = openDatabase(join(dir, 'node.sqlite'));
    scp = await scpIn(dir, db, ['CT_SCANNER']);
  });
  afterAll(async () => {
    await scp.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers C-ECHO from an allowed calling AE', async () => {
    const r = await run('echoscu', ['-aet', 'CT_SCANNER', '-aec', 'PMCT_ICH', '127.0.0.1', String(scp.port)]);
    expect(r.status, r.stderr).toBe(0);
  });

  it('refuses a calling AE title that is not in the allow-list', async () => {
    const r = await run('echoscu', ['-aet', 'INTRUDER', '-aec', 'PMCT_ICH', '127.0.0.1', String(scp.port)]);
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/Calling AE Title Not Recognized/i);
  });

  it('refuses a called AE title that is not this node', async () => {
    const r = await run('echoscu', ['-aet', 'CT_SCANNER', '-aec', 'SOMEONE', '127.0.0.1', String(scp.port)]);
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/Called AE Title Not Recognized/i);
  });
});

describe('durability on a full disk', () => {
  let dir: string;
  let mounted = false;
  beforeAll(() => {
    dir = tempDir('fulldisk');
    mkdirSync(join(dir, 'spool'));
    // 6 MiB holds about 15 of the CQ500 slices (about 0.35 MB each, JPEG Lossless).
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', join(dir, 'spool')]).status === 0;
  });
  afterAll(() => {
    if (mounted) spawnSync('umount', [join(dir, 'spool')]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('never answers Success for an object that is not on disk, and keeps what was stored intact', async (ctx) => {
    if (!mounted) {
      ctx.skip(true, 'cannot mount a tmpfs here (needs root); the full-disk test did not run');
      return;
    }
    const db = openDatabase(join(dir, 'node.sqlite'));
    const scp = await scpIn(dir, db, ['*']);
    const files = readdirSync(CQ500).sort().slice(0, 40).map((f) => join(CQ500, f));
    const r = await run('storescu', ['-v', '-nh', '-xs', '-aet', 'CT_SCANNER', '-aec', 'PMCT_ICH', '127.0.0.1', String(scp.port), ...files]);
    await scp.close();
    const out = r.stdout + r.stderr;
    const successes = (out.match(/Received Store Response \(Success\)/g) ?? []).length;
    const failures = (out.match(/Received Store Response \((?!Success)[^)]*\)/g) ?? []).length;
    expect(successes).toBeGreaterThan(5);
    expect(failures).toBeGreaterThan(0);
    expect(successes + failures).toBe(40);
    expect(out).toMatch(/Refused: OutOfResources/);
    const rows = db.prepare('SELECT path, sha256, size FROM instances').all() as { path: string; sha256: string; size: number }[];
    expect(rows.length).toBe(successes);
    for (const row of rows) {
      const bytes = readFileSync(join(dir, 'spool', row.path));
      expect(bytes.length).toBe(row.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(row.sha256);
    }
    // No temporary files left behind by the failed writes.
    expect(readdirSync(join(dir, 'spool', '.tmp'))).toEqual([]);
    db.close();
  });
});
