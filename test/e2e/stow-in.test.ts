/**
 * STOW-RS into the node: the Philips exam POSTed as one multipart/related request enters the same ingest path as
 * C-STORE and gives the same result (the 28 axial slices scored, the same case score as `analyze`) and the same
 * skipped list (scout, two secondary captures). Parts that are not DICOM are refused with a reason; no token, 401.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/service.js';
import { startTestNode } from '../helpers/node.js';
import { REPO, tempDir, waitFor, PHANTOM } from '../helpers/peers.js';

const FILES = readdirSync(PHANTOM).sort().map((f) => join(PHANTOM, f));

function multipart(parts: Buffer[]): { body: Buffer; contentType: string } {
  const boundary = 'test-boundary-7f3a';
  const chunks = parts.flatMap((p) => [Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), p, Buffer.from('\r\n')]);
  return { body: Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

describe('STOW-RS into the node', () => {
  let node: RunningNode;
  let dir: string;
  let response: { status: number; body: Record<string, { Value: Record<string, { Value: unknown[] }>[] }> };
  const stow = (parts: Buffer[], token?: string) => {
    const { body, contentType } = multipart(parts);
    return fetch(`http://127.0.0.1:${node.apiPort}/dicomweb/studies`, {
      method: 'POST',
      headers: { 'Content-Type': contentType, Accept: 'application/dicom+json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body,
    });
  };

  beforeAll(async () => {
    dir = tempDir('stow-in');
    node = await startTestNode(dir, {
      api: { port: 0, tokens: [{ name: 'router', role: 'sender', sha256: createHash('sha256').update('router-secret').digest('hex') }] },
    });
    const r = await stow(FILES.map((f) => readFileSync(f)), 'router-secret');
    response = { status: r.status, body: (await r.json()) as typeof response.body };
    await waitFor(() => node.idle(), 120_000, 'the exam to be analysed');
  }, 180_000);

  afterAll(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores all 31 instances and answers 200 with each in the Referenced SOP Sequence', () => {
    expect(response.status).toBe(200);
    expect(response.body['00081199']!.Value).toHaveLength(31);
    expect(response.body['00081198']).toBeUndefined();
    expect(node.db.prepare('SELECT COUNT(*) FROM instances').pluck().get()).toBe(31);
  });

  it('gives the same result and skipped list as C-STORE and analyze', () => {
    const result = node.db
      .prepare(`SELECT se.description, r.slice_count AS slices, r.case_score AS score FROM results r JOIN series se ON se.id = r.series_id WHERE r.status = 'analysed'`)
      .all() as { description: string; slices: number; score: number }[];
    const analyze = JSON.parse(spawnSync(process.execPath, [join(REPO, 'dist/src/cli.js'), 'analyze', PHANTOM, '--json'], { encoding: 'utf8' }).stdout) as {
      series: { caseScore: number }[];
    };
    expect(result).toEqual([{ description: 'STD BRAIN 5MM', slices: 28, score: analyze.series[0]!.caseScore }]);
    expect(node.db.prepare('SELECT code FROM skipped ORDER BY code').pluck().all()).toEqual(['localizer', 'secondary-capture', 'secondary-capture']);
    expect(node.db.prepare(`SELECT DISTINCT calling_ae FROM instances`).pluck().all()).toEqual(['STOW:router']);
  });

  it('refuses a part that is not DICOM with a failure reason, and a request without a token with 401', async () => {
    const bad = await stow([Buffer.from('this is not a DICOM file')], 'router-secret');
    expect(bad.status).toBe(409);
    const body = (await bad.json()) as Record<string, { Value: Record<string, { Value: number[] }>[] }>;
    expect(body['00081198']!.Value[0]!['00081197']!.Value).toEqual([0xc000]);
    expect((await stow([readFileSync(FILES[0]!)])).status).toBe(401);
  });
});
