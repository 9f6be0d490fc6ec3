#!/usr/bin/env node
/**
 * pmct-ich-node command line: serve | analyze | demo | send | pull | benchmark | calibrate | build-models | migrate.
 * Logs and progress go to stderr; `analyze --json` prints only JSON on stdout.
 */
import { Command, Option } from 'commander';
import { loadConfig, packageRoot } from './config/config.js';
import { createLogger } from './log/logger.js';
import { packageVersion } from './version.js';

const program = new Command();
program
  .name('pmct-ich-node')
  .description('PACS AI node: intracranial hemorrhage scoring of postmortem head CT (DICOM in, ONNX ensemble, SR + key slices out)')
  .version(packageVersion())
  .option('-c, --config <file>', 'YAML configuration (default: embedded defaults; env PMCT_ICH_CONFIG)');

const configPath = () => (program.opts().config as string | undefined) ?? process.env.PMCT_ICH_CONFIG;

program
  .command('serve')
  .description('run the node: DICOM SCP, analysis jobs and dispatch, until SIGINT/SIGTERM')
  .action(async () => {
    const config = loadConfig(configPath());
    const logger = createLogger(config.log.level);
    const { startNode } = await import('./service.js');
    const node = await startNode(config, logger);
    const stop = () => {
      logger.info('stopping');
      node.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('analyze')
  .description('analyse DICOM files or folders offline (no network) and print per-series results')
  .argument('<paths...>', 'files or folders (walked recursively)')
  .option('--json', 'print only JSON on stdout')
  .option('--models <manifest...>', 'model or ensemble manifest(s) instead of the configured ensemble')
  .option('--tensors <file.npy>', 'write the float32 [N,3,H,W] model input, in slice order, as NumPy .npy')
  .addOption(new Option('--rsna-fix', 'apply the RSNA 2019 12-bit intercept correction'))
  .action(async (paths: string[], opts: { json?: boolean; models?: string[]; tensors?: string; rsnaFix?: boolean }) => {
    const { runAnalyzeCommand } = await import('./pipeline/analyze-command.js');
    process.exitCode = await runAnalyzeCommand(paths, opts, loadConfig(configPath()));
  });

program
  .command('demo')
  .description('start the node in a temporary folder, send a study to it over DICOM, and print the result')
  .argument('[folder]', 'study folder to send (default: ../shared/data/studies/cq500-ct-0 when present)')
  .option('--clean', 'remove the temporary folder at the end')
  .action(async (folder: string | undefined, opts: { clean?: boolean }) => {
    const { runDemo } = await import('./demo.js');
    process.exitCode = await runDemo(folder, opts);
  });

program
  .command('send')
  .description('send DICOM files or folders to a DICOM node by C-STORE (files sent as stored)')
  .argument('<paths...>', 'files or folders')
  .requiredOption('--host <host>', 'destination host')
  .requiredOption('--port <port>', 'destination port', (v) => Number(v))
  .option('--called <ae>', 'called AE title', 'PMCT_ICH')
  .option('--calling <ae>', 'calling AE title', 'PMCT_SEND')
  .action(async (paths: string[], opts: { host: string; port: number; called: string; calling: string }) => {
    const { sendFiles } = await import('./dispatch/send-files.js');
    const r = await sendFiles(paths, opts);
    process.stderr.write(`sent ${r.sent} of ${r.total} file(s)\n`);
    // One line per distinct error (a refused connection fails every file the same way), with an example file.
    const byError = new Map<string, string[]>();
    for (const f of r.failures) byError.set(f.error, [...(byError.get(f.error) ?? []), f.path]);
    for (const [error, files] of byError) process.stderr.write(`not sent: ${files.length} file(s): ${error} (e.g. ${files[0]})\n`);
    process.exitCode = r.failures.length ? 1 : 0;
  });

program
  .command('pull')
  .description("ask a running node (its API) to fetch a study from its DICOMweb pull source and analyse it")
  .argument('<studyUid>', 'Study Instance UID in the PACS')
  .option('--api <url>', 'the node API base URL', 'http://127.0.0.1:8080')
  .option('--token <token>', 'a qa or admin bearer token (or env PMCT_ICH_TOKEN)')
  .action(async (studyUid: string, opts: { api: string; token?: string }) => {
    const token = opts.token ?? process.env.PMCT_ICH_TOKEN;
    const res = await fetch(`${opts.api.replace(/\/+$/, '')}/api/studies/${encodeURIComponent(studyUid)}/analyze`, {
      method: 'POST',
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    process.stdout.write(`${await res.text()}\n`);
    process.exitCode = res.status === 202 ? 0 : 1;
  });

program
  .command('benchmark')
  .description("the method study's Table 2 on your labelled cases: AUC (DeLong CI), Youden sensitivity/specificity, time, parameters, Spearman, ROC and scatter plots")
  .requiredOption('--cases <csv|folder>', 'CSV case,label[,path] or a folder with positive/ and negative/ (one entry per case)')
  .requiredOption('--models <manifest...>', 'model (or ensemble) manifests; each model is one row')
  .option('--reader <csv>', "a reader's scores per case (CSV case,score, e.g. 1-5) for a DeLong test of each model against the reader")
  .option('--out <folder>', 'where to write table.md, table.csv, correlations.csv, case-scores.csv, benchmark.json and SVG plots', 'benchmark-report')
  .addOption(new Option('--rsna-fix', 'apply the RSNA 2019 12-bit intercept correction'))
  .action(async (opts: { cases: string; models: string[]; reader?: string; out: string; rsnaFix?: boolean }) => {
    const config = loadConfig(configPath());
    const { runBenchmark } = await import('./qa/benchmark.js');
    const { createProgress } = await import('./log/progress.js');
    const report = await runBenchmark(opts, config, createLogger(config.log.level), createProgress());
    const { readFileSync } = await import('node:fs');
    process.stdout.write(readFileSync(`${opts.out}/table.md`, 'utf8'));
    process.stderr.write(`benchmark: ${report.cases.scored} case(s), ${report.models.length} model(s); written to ${opts.out}/\n`);
  });

program
  .command('calibrate')
  .description('choose the decision threshold by the Youden index on labelled cases and write it into the manifest with its provenance')
  .option('--cases <csv|folder>', 'CSV case,label[,path] or a folder with positive/ and negative/')
  .option('--from-db', "instead of --cases: the node's own cases with autopsy ground truth (its database, from --config)")
  .option('--manifest <file>', 'ensemble or model manifest to calibrate (default: the configured one)')
  .option('--out <file>', 'write the calibrated manifest here instead of in place')
  .option('--dry-run', 'print the threshold without writing')
  .addOption(new Option('--rsna-fix', 'apply the RSNA 2019 12-bit intercept correction'))
  .action(async (opts: { cases?: string; fromDb?: boolean; manifest?: string; out?: string; dryRun?: boolean; rsnaFix?: boolean }) => {
    const config = loadConfig(configPath());
    const { runCalibrate } = await import('./qa/calibrate.js');
    const { createProgress } = await import('./log/progress.js');
    const r = await runCalibrate(opts, config, createLogger(config.log.level), createProgress());
    const p = r.threshold.provenance as { auc: number; sensitivity: number; specificity: number };
    process.stdout.write(
      `threshold ${r.threshold.value} (youden): sensitivity ${p.sensitivity.toFixed(3)}, specificity ${p.specificity.toFixed(3)}, AUC ${p.auc.toFixed(3)}; ${r.threshold.note}\n` +
        (r.written ? `written to ${r.written}\n` : 'dry run: nothing written\n'),
    );
  });

program
  .command('build-models')
  .description('build the baseline ONNX model(s) under models/ (no downloads) and check their SHA-256')
  .action(async () => {
    const { buildModels } = await import('./inference/baseline-model.js');
    const built = await buildModels(`${packageRoot()}/models`);
    for (const b of [built].flat()) process.stderr.write(`built ${JSON.stringify(b)}\n`);
  });

program
  .command('migrate')
  .description('create or upgrade the database in the configured data folder')
  .action(async () => {
    const config = loadConfig(configPath());
    const { openDatabase } = await import('./db/database.js');
    const { dataPaths } = await import('./service.js');
    const db = openDatabase(dataPaths(config.dataDir).db);
    const versions = db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
    db.close();
    process.stderr.write(`${JSON.stringify(versions)}\n`);
  });

program.parseAsync().catch((e: Error) => {
  process.stderr.write(`error: ${e.message}\n`);
  process.exitCode = 1;
});
