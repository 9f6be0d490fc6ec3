/**
 * Above the disk high-water mark (less free spool space than receive.minFreeMegabytes) the node refuses new
 * associations, transiently and with a reason the sender understands, instead of failing mid-object.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/service.js';
import { SCANNER_AE, startTestNode } from '../helpers/node.js';
import { DATA, run, tempDir } from '../helpers/peers.js';

describe('disk high-water mark', () => {
  let node: RunningNode;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('high-water');
    // No disk has an exabyte free: every association meets the mark.
    node = await startTestNode(dir, { receive: { port: 0, allowedCallingAeTitles: [SCANNER_AE], minFreeMegabytes: 1e12 } });
  });
  afterAll(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the association transiently (local limit exceeded) and stores nothing', async () => {
    const slice = join(DATA, 'transfer-syntaxes/ct1-nema/CT1_UNC.explicit_little_endian.dcm');
    const r = await run('storescu', ['-aet', SCANNER_AE, '-aec', 'PMCT_ICH', '127.0.0.1', String(node.port), slice]);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Association Rejected[\s\S]*Transient[\s\S]*Local Limit Exceeded/i);
    expect(node.db.prepare('SELECT COUNT(*) FROM instances').pluck().get()).toBe(0);
    expect(node.db.prepare(`SELECT COUNT(*) FROM events WHERE kind = 'node.started'`).pluck().get()).toBe(1);
  });
});
