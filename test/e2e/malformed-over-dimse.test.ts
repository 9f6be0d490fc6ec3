/**
 * Every file of ../shared/data/malformed sent to the node by storescu, each followed by a good slice in the same
 * association: the node answers each with a status (stores it and records it as analysed or skipped with its reason,
 * or answers a failure), never aborts the association (the good slice after it is stored), loses nothing it answered
 * Success, and still scores the CQ500 study sent right after. Files storescu itself cannot read get the same kind of
 * outcome through `analyze`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, storescu } from '../helpers/node.js';
import { readDicom } from '../../src/dicom/dataset.js';
import type { RunningNode } from '../../src/service.js';
import { CQ500, DATA, REPO, tempDir, waitFor } from '../helpers/peers.js';

const MALFORMED = join(DATA, 'malformed');
const GOOD = join(DATA, 'transfer-syntaxes/ct1-nema/CT1_UNC.explicit_little_endian.dcm');
/** storescu sends compressed files only in a proposed compressed syntax. */
const FLAGS: Record<string, string[]> = {
  '1.2.840.10008.1.2.4.57': ['-xs'],
  '1.2.840.10008.1.2.4.70': ['-xs'],
  '1.2.840.10008.1.2.4.80': ['-xt'],
  '1.2.840.10008.1.2.4.90': ['-xv'],
  '1.2.840.10008.1.2.4.91': ['-xw'],
  '1.2.840.10008.1.2.5': ['-xr'],
};

function syntaxOf(path: string): string | undefined {
  try {
    return readDicom(readFileSync(path)).transferSyntaxUid;
  } catch {
    return undefined;
  }
}

interface Sent {
  file: string;
  storescu: 'success' | 'failure-status' | 'cannot-send';
  response: string;
  goodAfter: boolean;
}

describe('malformed files over DIMSE', () => {
  let node: RunningNode;
  let dir: string;
  const sent: Sent[] = [];

  beforeAll(async () => {
    dir = tempDir('malformed');
    node = await startTestNode(dir, { api: { port: 0, tokens: [{ name: 'router', role: 'sender', sha256: createHash('sha256').update('router-secret').digest('hex') }] } });
    for (const name of readdirSync(MALFORMED).sort()) {
      const file = join(MALFORMED, name);
      const flags = FLAGS[syntaxOf(file) ?? ''] ?? [];
      const r = await storescu(node, ['-v', ...flags, '-R', file, GOOD]);
      const out = r.stdout + r.stderr;
      const responses = [...out.matchAll(/Received Store Response \(([^)]*)\)/g)].map((m) => m[1]!);
      const first = responses[0] ?? '';
      // storescu's own refusals (it cannot read the file, or cannot send it in any syntax it proposed) come before
      // any response; a node that aborted the association would show up as missing responses without these.
      const cannotSend = !responses.length && /^F: |Bad DICOM file|unable to convert/m.test(out);
      sent.push({
        file: name,
        storescu: cannotSend ? 'cannot-send' : first === 'Success' ? 'success' : 'failure-status',
        response: cannotSend ? (out.match(/^[FE]: (.*)/m)?.[1] ?? '') : first,
        goodAfter: responses.length === 2 && responses[1] === 'Success',
      });
    }
    const cq = await storescu(node, ['-xs', '+sd', '+r', CQ500]);
    expect(cq.status, cq.stderr).toBe(0);
    await waitFor(() => node.idle(), 180_000, 'the node to settle');
    process.stderr.write(
      `\n| malformed file | storescu | node's answer | outcome in the node |\n|---|---|---|---|\n` +
        sent.map((s) => `| ${s.file} | ${s.storescu} | ${s.response} | ${outcomeOf(s.file)} |`).join('\n') +
        '\n\n',
    );
  }, 300_000);

  afterAll(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * What the node recorded for the series of a malformed file: analysed, skipped with its code, or its report refused
   * with the reason (looked up by series: storescu may rewrite an invalid SOP Instance UID in the command).
   */
  function outcomeOf(name: string): string {
    let seriesUid: string | undefined;
    try {
      seriesUid = readDicom(readFileSync(join(MALFORMED, name))).dataset.string(0x0020000e);
    } catch {
      return 'not stored';
    }
    const row = node.db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM slice_results sr JOIN instances i ON i.id = sr.instance_id WHERE i.series_id = s.id) AS slices,
                (SELECT GROUP_CONCAT(DISTINCT k.code) FROM skipped k JOIN instances i ON i.id = k.instance_id WHERE i.series_id = s.id) AS codes,
                (SELECT error FROM jobs WHERE series_id = s.id AND state = 'failed' ORDER BY id DESC LIMIT 1) AS error
         FROM series s WHERE s.series_uid = ?`,
      )
      .get(seriesUid ?? '') as { slices: number; codes: string | null; error: string | null } | undefined;
    if (!row) return 'not stored';
    if (row.slices > 0) return 'analysed';
    if (row.codes) return `skipped: ${row.codes}`;
    return row.error ? `report refused: ${row.error}` : 'stored, no outcome';
  }

  it('answers every file storescu can send with a status and keeps the association going', () => {
    const sendable = sent.filter((s) => s.storescu !== 'cannot-send');
    expect(sendable.length).toBeGreaterThan(4);
    for (const s of sendable) expect(s.goodAfter, `${s.file}: the good slice after it`).toBe(true);
  });

  it('records every file it answered Success as analysed or skipped with a reason', () => {
    for (const s of sent.filter((x) => x.storescu === 'success')) {
      expect(outcomeOf(s.file), s.file).toMatch(/^(analysed|skipped: [a-z-]+|report refused: .*is not a valid DICOM UID.*)$/);
    }
  });

  it('gives every file storescu cannot send an outcome through analyze, without failing the run', () => {
    const unsendable = sent.filter((s) => s.storescu === 'cannot-send').map((s) => join(MALFORMED, s.file));
    expect(unsendable.length).toBeGreaterThan(0);
    const r = spawnSync(process.execPath, [join(REPO, 'dist/src/cli.js'), 'analyze', ...unsendable, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { series: { slices: { file: string }[] }[]; skipped: { file: string; code: string }[] };
    const accounted = new Set([...out.skipped.map((k) => k.file), ...out.series.flatMap((s) => s.slices.map((x) => x.file))]);
    for (const f of unsendable) expect(accounted.has(f), f).toBe(true);
  });

  it('refuses to report on a source whose UIDs are not valid DICOM UIDs: reason recorded, no result, no output', () => {
    // bad_sequence.dcm carries hex digests as Study/Series/SOP "UIDs": an SR referencing them would be invalid DICOM.
    const seriesUid = readDicom(readFileSync(join(MALFORMED, 'bad_sequence.dcm'))).dataset.string(0x0020000e);
    const row = node.db
      .prepare(
        `SELECT j.state, j.error, (SELECT COUNT(*) FROM results WHERE series_id = s.id) AS results
         FROM series s JOIN jobs j ON j.series_id = s.id WHERE s.series_uid = ?`,
      )
      .get(seriesUid) as { state: string; error: string; results: number };
    expect(row.state).toBe('failed');
    expect(row.error).toMatch(/^source StudyInstanceUID "05fa52f0.*" is not a valid DICOM UID \(PS3\.5 9\.1\); no report is produced with it$/);
    expect(row.results).toBe(0);
  });

  it('gives every file storescu cannot send a status through STOW-RS too: stored with an outcome, or refused with a reason', async () => {
    for (const s of sent.filter((x) => x.storescu === 'cannot-send')) {
      const boundary = 'malformed-boundary';
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
        readFileSync(join(MALFORMED, s.file)),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const r = await fetch(`http://127.0.0.1:${node.apiPort}/dicomweb/studies`, {
        method: 'POST',
        headers: { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`, Authorization: 'Bearer router-secret' },
        body,
      });
      const json = (await r.json()) as Record<string, { Value: Record<string, { Value: unknown[] }>[] }>;
      if (r.status === 200) {
        expect(json['00081199']!.Value, s.file).toHaveLength(1);
      } else {
        expect(r.status, s.file).toBe(409);
        expect(json['00081198']!.Value[0]!['00081197']!.Value[0], s.file).toBeGreaterThan(0);
      }
    }
    // Whatever was stored is recorded: analysed, or skipped with a reason, once the node has settled.
    await waitFor(() => node.idle(), 60_000, 'the STOW-RS instances to be processed');
    const unaccounted = node.db
      .prepare(
        `SELECT i.sop_instance_uid FROM instances i JOIN series s ON s.id = i.series_id
         WHERE NOT EXISTS (SELECT 1 FROM skipped k WHERE k.instance_id = i.id)
           AND NOT EXISTS (SELECT 1 FROM slice_results r WHERE r.instance_id = i.id)
           AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.series_id = s.id AND j.state = 'failed')`,
      )
      .pluck()
      .all();
    expect(unaccounted).toEqual([]);
  });

  it('still scores the CQ500 study sent right after', () => {
    const row = node.db
      .prepare(`SELECT r.slice_count AS slices, r.status FROM results r JOIN series s ON s.id = r.series_id WHERE s.instance_count = 238`)
      .get();
    expect(row).toEqual({ slices: 238, status: 'analysed' });
  });
});
