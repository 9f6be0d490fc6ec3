/**
 * `demo` (the README's first command): the node with embedded defaults in a temporary folder, a study sent to it
 * over DICOM (C-STORE, files as stored), then the result: case score, decision, key slices and the SR/SC files.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig, packageRoot } from './config/config.js';
import { sendFiles } from './dispatch/send-files.js';
import { collectInputs } from './imaging/assemble.js';
import { createLogger } from './log/logger.js';
import { startNode } from './service.js';

/** The sample study of this workspace (absent outside it). */
export function defaultStudy(): string {
  return resolve(packageRoot(), '../shared/data/studies/cq500-ct-0');
}

export async function runDemo(folder: string | undefined, opts: { clean?: boolean }): Promise<number> {
  const study = folder ? resolve(folder) : defaultStudy();
  if (!existsSync(study) || !statSync(study).isDirectory()) {
    process.stderr.write(
      folder
        ? `demo: ${study} is not a folder\n`
        : `demo: no study folder given and the sample study ${study} is not here.\n` +
            `Run: npm run demo -- <folder with a head CT series>\n`,
    );
    return 2;
  }
  const files = collectInputs([study]);
  if (files.length === 0) {
    process.stderr.write(`demo: ${study} holds no files; give a folder with a head CT series\n`);
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pmct-ich-demo-'));
  const config = parseConfig({
    dataDir: dir,
    receive: { port: 0, allowedCallingAeTitles: ['PMCT_DEMO'] },
    ingest: { quietSeconds: 2, sweepIntervalSeconds: 0.5 },
    dispatch: { intervalSeconds: 0.5 },
  });
  const logger = createLogger(process.env.PMCT_LOG_LEVEL ?? 'warn');
  process.stderr.write(`demo: node data folder ${dir}\n`);
  const node = await startNode(config, logger);
  try {
    process.stderr.write(`demo: sending ${study} to ${config.receive.aeTitle}@127.0.0.1:${node.port} ...\n`);
    const t0 = Date.now();
    const sent = await sendFiles(files, { host: '127.0.0.1', port: node.port, called: config.receive.aeTitle, calling: 'PMCT_DEMO' });
    process.stderr.write(`demo: sent ${sent.sent}/${sent.total} files in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    for (const f of sent.failures) process.stderr.write(`demo: not sent: ${f.path}: ${f.error}\n`);
    process.stderr.write('demo: waiting for the series to complete, the analysis and the dispatch ...\n');
    while (!node.idle()) await new Promise((r) => setTimeout(r, 250));
    const rows = node.db
      .prepare(
        `SELECT r.id, s.series_uid AS seriesUid, s.description, r.status, r.case_score AS caseScore, r.decision, r.threshold,
                r.slice_count AS slices, r.key_slices AS keySlices, j.state AS jobState, j.error
         FROM jobs j JOIN series s ON s.id = j.series_id LEFT JOIN results r ON r.job_id = j.id ORDER BY j.id`,
      )
      .all() as {
      id: number | null;
      seriesUid: string;
      description: string | null;
      status: string | null;
      caseScore: number | null;
      decision: string | null;
      threshold: number;
      slices: number;
      keySlices: string;
      jobState: string;
      error: string | null;
    }[];
    let ok = rows.length > 0;
    for (const r of rows) {
      process.stdout.write(`\nseries ${r.seriesUid} (${r.description || 'no description'})\n`);
      if (r.jobState !== 'done') {
        ok = false;
        process.stdout.write(`  job ${r.jobState}: ${r.error ?? ''}\n`);
        continue;
      }
      if (r.status !== 'analysed' || r.id === null) {
        process.stdout.write(`  not analysed (${r.status ?? 'same result as before'})\n`);
        continue;
      }
      process.stdout.write(`  ensemble: ${node.ensemble.name} ${node.ensemble.version}\n`);
      const baselines = node.ensemble.members.filter((m) => m.model.manifest.baseline).map((m) => m.model.manifest.name);
      if (baselines.length) {
        process.stdout.write(`  note: ${baselines.join(', ')} is a transparent HU baseline, not a trained CNN: not for diagnostic use\n`);
      }
      process.stdout.write(`  slices analysed: ${r.slices}\n`);
      process.stdout.write(`  case score: ${r.caseScore!.toFixed(4)}  decision: hemorrhage ${r.decision} (threshold ${r.threshold})\n`);
      const keys = JSON.parse(r.keySlices) as number[];
      const slice = node.db.prepare(
        `SELECT sr.probability, sr.z, sr.frame, i.sop_instance_uid AS uid FROM slice_results sr JOIN instances i ON i.id = sr.instance_id
         WHERE sr.result_id = ? AND sr.slice_index = ?`,
      );
      keys.forEach((k, rank) => {
        const s = slice.get(r.id, k) as { probability: number; z: number; frame: number; uid: string };
        process.stdout.write(`  key slice ${rank + 1}: #${k} z=${s.z.toFixed(1)} mm p=${s.probability.toFixed(4)} ${s.uid}\n`);
      });
      const outputs = node.db
        .prepare(
          `SELECT o.kind, o.idx, o.sop_instance_uid AS uid, d.state FROM outputs o LEFT JOIN dispatches d ON d.output_id = o.id
           WHERE o.result_id = ? ORDER BY o.kind DESC, o.idx`,
        )
        .all(r.id) as { kind: string; idx: number; uid: string; state: string }[];
      const folder = config.destinations.find((d) => d.type === 'folder');
      for (const o of outputs) {
        const study = node.db.prepare('SELECT st.study_uid FROM series s JOIN studies st ON st.id = s.study_id WHERE s.series_uid = ?').pluck().get(r.seriesUid) as string;
        const path = folder && folder.type === 'folder' ? join(folder.path, study, `${o.uid}.dcm`) : o.uid;
        process.stdout.write(`  ${o.kind.toUpperCase()} ${o.idx}: ${path} (${o.state})\n`);
        if (o.state !== 'delivered') ok = false;
      }
    }
    const skipped = node.db.prepare('SELECT code, COUNT(*) AS n FROM skipped GROUP BY code').all() as { code: string; n: number }[];
    if (skipped.length) process.stdout.write(`\nskipped objects: ${skipped.map((s) => `${s.code} x${s.n}`).join(', ')}\n`);
    process.stdout.write(`\ndatabase: ${node.paths.db}\n`);
    return ok ? 0 : 1;
  } finally {
    await node.stop();
    if (opts.clean) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`demo: the node's folder is kept for you to inspect: ${dir} (--clean removes it)\n`);
  }
}
