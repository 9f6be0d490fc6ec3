/**
 * The node as a running service: database, DIMSE SCP, series completion, the job loop and the outbox, wired
 * from one Config. `serve` and `demo` start it; tests start it on port 0 in a temp folder.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cron from 'node-cron';
import type { Config } from './config/config.js';
import { openDatabase, recordEvent, type Db } from './db/database.js';
import { routeDimseLogs } from './dicom/dimse.js';
import { startApi, type RunningApi } from './api/server.js';
import { hl7Channel, sweepFlags, webhookChannel } from './dispatch/flags.js';
import { Outbox } from './dispatch/outbox.js';
import { purgeFinishedCases } from './housekeeping/retention.js';
import { ImagingPool } from './imaging/pool.js';
import { completeQuietSeries, restartQuietPeriods } from './ingest/completion.js';
import { commitReceived } from './ingest/registry.js';
import { loadEnsemble, type LoadedEnsemble } from './inference/manifest.js';
import { createPredictor } from './inference/predictor.js';
import type { Logger } from './log/logger.js';
import { requeueInterruptedJobs, runNextJob, type JobDeps } from './pipeline/jobs.js';
import { startScp, type ReceivedObject, type RunningScp } from './receive/scp.js';
import type { NodeIdentity } from './report/types.js';
import { packageVersion } from './version.js';

export interface DataPaths {
  db: string;
  spool: string;
  tmp: string;
  outputs: string;
}

export function dataPaths(dataDir: string): DataPaths {
  return {
    db: join(dataDir, 'node.sqlite'),
    spool: join(dataDir, 'spool'),
    tmp: join(dataDir, 'spool', '.tmp'),
    outputs: join(dataDir, 'outputs'),
  };
}

/** The installation's stable device UID: from config, else created once and kept in the data folder. */
function deviceUid(config: Config): string {
  if (config.identity.deviceUid) return config.identity.deviceUid;
  const file = join(config.dataDir, 'device-uid');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const uid = '2.25.' + BigInt('0x' + randomUUID().replace(/-/g, '')).toString(10);
  writeFileSync(file, uid + '\n');
  return uid;
}

export function nodeIdentity(config: Config): NodeIdentity {
  return {
    name: config.identity.name,
    manufacturer: 'pmct-ich-node project',
    modelName: 'pmct-ich-node',
    softwareVersion: packageVersion(),
    deviceUid: deviceUid(config),
    institutionName: config.identity.institutionName,
  };
}

export interface RunningNode {
  db: Db;
  port: number;
  /** The HTTP API's port, when the API is configured. */
  apiPort?: number;
  paths: DataPaths;
  ensemble: LoadedEnsemble;
  /** True when no series is receiving, no job is queued or running and no dispatch is queued. */
  idle(): boolean;
  stop(): Promise<void>;
}

export async function startNode(config: Config, logger: Logger): Promise<RunningNode> {
  routeDimseLogs(logger);
  const paths = dataPaths(config.dataDir);
  for (const dir of [paths.spool, paths.tmp, paths.outputs]) mkdirSync(dir, { recursive: true });
  const db = openDatabase(paths.db);
  const requeued = requeueInterruptedJobs(db);
  if (requeued) logger.warn(`${requeued} job(s) interrupted by a stop were queued again`);
  const reopened = restartQuietPeriods(db);
  if (reopened) logger.warn(`${reopened} series were still receiving at the last stop: their quiet time starts again`);
  // Partial objects of associations a stop cut off were never answered Success: the sender still has them.
  for (const f of readdirSync(paths.tmp)) rmSync(join(paths.tmp, f), { force: true });

  const ensemble = loadEnsemble(config.inference.models);
  const predictor = await createPredictor(ensemble, {
    executionProviders: config.inference.executionProviders,
    batchSize: config.inference.batchSize,
    logger,
  });
  const pool = new ImagingPool(config.imaging.workers);
  const outbox = new Outbox(db, config, logger, paths.outputs);
  const jobDeps: JobDeps = {
    db,
    logger,
    pool,
    predictor,
    ensemble,
    imaging: config.imaging,
    keySlices: config.inference.keySlices,
    spoolDir: paths.spool,
    outputsDir: paths.outputs,
    node: nodeIdentity(config),
    destinations: config.destinations.map((d) => d.name),
    flagChannels: [...config.flags.webhooks.map((w) => webhookChannel(w.name)), ...config.flags.hl7.map((h) => hl7Channel(h.name))],
  };
  logger.info('ensemble loaded', {
    ensemble: ensemble.name,
    version: ensemble.version,
    members: ensemble.members.map((m) => m.model.manifest.name),
    threshold: ensemble.threshold.value,
  });

  const commit = (obj: ReceivedObject) => commitReceived(db, paths.spool, obj, logger).status;
  const scp: RunningScp = await startScp({
    ...config.receive,
    tmpDir: paths.tmp,
    logger,
    commit,
    refuseAssociation: () => {
      const fs = statfsSync(paths.spool);
      const free = fs.bavail * fs.bsize;
      // Refuse new associations on a nearly full disk rather than fail mid-object.
      return free < config.receive.minFreeMegabytes * 1048576 ? `spool file system has only ${Math.round(free / 1048576)} MiB free` : undefined;
    },
  });
  const api: RunningApi | undefined =
        config.api.port === undefined
      ? undefined
      : await startApi({ db, config, logger, ingest: { tmpDir: paths.tmp, commit }, outputsDir: paths.outputs, threshold: () => ensemble.threshold.value });
  recordEvent(db, 'node.started', `listening on ${config.receive.host}:${scp.port} as ${config.receive.aeTitle}`);

  // One job at a time: inference already uses every core; the loop drains the queue, then waits for a tick.
  let jobsRunning: Promise<void> | undefined;
  const drainJobs = () => {
    jobsRunning ??= (async () => {
      try {
        while (await runNextJob(jobDeps)) {
          // keep going
        }
      } finally {
        jobsRunning = undefined;
      }
    })();
  };
  let outboxRunning: Promise<void> | undefined;
  const tick = () => {
    try {
      if (completeQuietSeries(db, config.ingest.quietSeconds).length > 0 || !jobsRunning) drainJobs();
    } catch (e) {
      logger.error(`series completion failed: ${(e as Error).message}`);
    }
    outboxRunning ??= outbox
      .sweep()
      .then(() => sweepFlags(db, config, logger))
      .catch((e: Error) => void logger.error(`outbox sweep failed: ${e.message}`))
      .finally(() => (outboxRunning = undefined));
  };
  // The pipeline's own tick is sub-second, below cron's resolution; housekeeping runs on the configured cron schedule.
  const timer = setInterval(tick, Math.min(config.ingest.sweepIntervalSeconds, config.dispatch.intervalSeconds) * 1000);
  const housekeeping = cron.schedule(
    config.housekeeping.schedule,
    () => {
      try {
        const n = purgeFinishedCases(db, paths.spool, config.housekeeping.retentionDays);
        if (n) logger.info(`housekeeping removed ${n} received file(s) of finished cases`);
      } catch (e) {
        logger.error(`housekeeping failed: ${(e as Error).message}`);
      }
    },
    { name: 'housekeeping', noOverlap: true },
  );
  tick();

  return {
    db,
    port: scp.port,
    apiPort: api?.port,
    paths,
    ensemble,
    idle: () =>
      !jobsRunning &&
      (db
        .prepare(
          `SELECT (SELECT COUNT(*) FROM series WHERE state = 'receiving') + (SELECT COUNT(*) FROM jobs WHERE state IN ('queued','running'))
                + (SELECT COUNT(*) FROM dispatches WHERE state IN ('queued','sending'))
                + (SELECT COUNT(*) FROM flags WHERE state = 'queued')`,
        )
        .pluck()
        .get() as number) === 0,
    stop: async () => {
      clearInterval(timer);
      await housekeeping.destroy();
      await scp.close();
      await api?.close();
      await jobsRunning;
      await outboxRunning;
      await pool.close();
      await predictor.close();
      recordEvent(db, 'node.stopped', 'stopped');
      db.close();
      logger.info('node stopped');
    },
  };
}
