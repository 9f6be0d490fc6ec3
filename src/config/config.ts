/**
 * Node configuration: a YAML file (optional) validated with zod, every key defaulted so the node runs with no file
 * at all (embedded defaults: SQLite file and spool under `dataDir`, output to a local folder, no external service).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import cron from 'node-cron';
import { z } from 'zod';

/**
 * An http(s) URL without credentials in it: a user:password@ part would reach delivery errors, logs and the API's
 * dispatch listings; credentials go in the destination's `auth` instead.
 */
const httpUrl = z.url({ protocol: /^https?$/ }).refine((u) => {
  const url = new URL(u);
  return !url.username && !url.password;
}, 'put credentials in "auth", not in the URL');

/** The package root (works from src/ under vitest and from dist/src/ when built). */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(`${'/dist/'}`) ? resolve(here, '../../..') : resolve(here, '../..');
}

const AeTitle = z
  .string()
  .min(1)
  .max(16)
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'AE titles are at most 16 printable ASCII characters without backslash')
  .refine((s) => s.trim().length > 0, 'AE title cannot be blank');

const DimseDestination = z.object({
  name: z.string().min(1),
  type: z.literal('dimse'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  calledAeTitle: AeTitle,
  callingAeTitle: AeTitle.optional(),
});
const FolderDestination = z.object({
  name: z.string().min(1),
  type: z.literal('folder'),
  path: z.string().min(1),
});
const StowRsDestination = z.object({
  name: z.string().min(1),
  type: z.literal('stow-rs'),
  /** DICOMweb base URL (e.g. https://pacs.example/dicom-web); objects are POSTed to `${url}/studies`. */
  url: httpUrl,
  /** Optional credentials: a bearer token, or basic auth (user/password). */
  auth: z
    .union([z.object({ bearer: z.string().min(1) }), z.object({ user: z.string().min(1), password: z.string() })])
    .optional(),
  timeoutSeconds: z.number().positive().default(60),
});
export const DestinationSchema = z.discriminatedUnion('type', [DimseDestination, FolderDestination, StowRsDestination]);
export type Destination = z.infer<typeof DestinationSchema>;

export const ConfigSchema = z
  .object({
    /** Folder for the database, the spool of received files and the produced objects. */
    dataDir: z.string().default('var'),
    identity: z
      .object({
        name: z.string().default('PMCT-ICH-NODE'),
        institutionName: z.string().optional(),
        /** Stable UID of this installation; derived from dataDir's database when absent. */
        deviceUid: z.string().optional(),
      })
      .prefault({}),
    receive: z
      .object({
        aeTitle: AeTitle.default('PMCT_ICH'),
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(11112),
        /** Calling AE titles allowed to associate; '*' allows any (a warning is logged at start). */
        allowedCallingAeTitles: z.array(z.string().min(1)).default(['*']),
        maxPduLength: z.number().int().min(4096).default(131072),
        /** Associations are refused (transient) while the spool's file system has less free space than this. */
        minFreeMegabytes: z.number().min(0).default(256),
      })
      .prefault({}),
    ingest: z
      .object({
        /** A series is complete when no instance arrived for this long. */
        quietSeconds: z.number().positive().default(15),
        sweepIntervalSeconds: z.number().positive().default(1),
      })
      .prefault({}),
    imaging: z
      .object({
        rsnaFix: z.boolean().default(false),
        axialMaxDeg: z.number().min(0).max(90).default(45),
        paddingMask: z.boolean().default(true),
        /** Worker threads for decoding and preprocessing; 0 = one per CPU core. */
        workers: z.number().int().min(0).default(0),
      })
      .prefault({}),
    inference: z
      .object({
        /** Ensemble or model manifest(s), relative to the package root unless absolute. */
        models: z.array(z.string().min(1)).min(1).default(['models/default.ensemble.json']),
        executionProviders: z.array(z.enum(['cuda', 'cpu'])).min(1).default(['cpu']),
        batchSize: z.number().int().positive().default(8),
        keySlices: z.number().int().min(1).max(10).default(3),
      })
      .prefault({}),
    destinations: z.array(DestinationSchema).default([{ name: 'local-folder', type: 'folder', path: 'outbox' }]),
    dispatch: z
      .object({
        maxAttempts: z.number().int().positive().default(10),
        initialBackoffSeconds: z.number().positive().default(5),
        maxBackoffSeconds: z.number().positive().default(600),
        intervalSeconds: z.number().positive().default(1),
      })
      .prefault({}),
    /** Worklist flags raised for positive cases, retried with the dispatch settings. */
    flags: z
      .object({
        /** JSON webhooks, signed: header X-PMCT-Signature = "sha256=" + hex HMAC-SHA256 of the body with `secret`. */
        webhooks: z.array(z.object({ name: z.string().min(1), url: httpUrl, secret: z.string().min(16) })).default([]),
        /** HL7 v2.5 ORU^R01 over MLLP to a RIS or interface engine; delivered when it answers ACK (MSA-1 AA or CA). */
        hl7: z
          .array(
            z.object({
              name: z.string().min(1),
              host: z.string().min(1),
              port: z.number().int().min(1).max(65535),
              receivingApplication: z.string().default('RIS'),
              receivingFacility: z.string().default(''),
              timeoutSeconds: z.number().positive().default(30),
            }),
          )
          .default([]),
      })
      .prefault({}),
    /** Housekeeping on a node-cron schedule: received files of finished, delivered cases leave the spool. */
    housekeeping: z
      .object({
        retentionDays: z.number().min(0).default(30),
        schedule: z.string().refine((s) => cron.validate(s), 'not a valid cron expression').default('17 3 * * *'),
      })
      .prefault({}),
    /** Pull mode: the DICOMweb service (QIDO-RS/WADO-RS) that studies to analyse are fetched from. */
    pull: z
      .object({
        url: httpUrl,
        auth: z
          .union([z.object({ bearer: z.string().min(1) }), z.object({ user: z.string().min(1), password: z.string() })])
          .optional(),
      })
      .optional(),
    /** The HTTP API (health, outbox administration); off unless a port is given. */
    api: z
      .object({
        host: z.string().default('127.0.0.1'),
        /** 0 picks a free port; absent: no API. */
        port: z.number().int().min(0).max(65535).optional(),
        /** Bearer tokens, stored as SHA-256 hex of the token (`printf %s TOKEN | sha256sum`), never in clear. */
        tokens: z
          .array(z.object({ name: z.string().min(1), role: z.enum(['qa', 'admin', 'sender']), sha256: z.string().regex(/^[0-9a-f]{64}$/) }))
          .default([]),
      })
      .prefault({}),
    log: z.object({ level: z.enum(['error', 'warn', 'info', 'debug']).default('info') }).prefault({}),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates a parsed config object; `baseDir` resolves relative paths (dataDir, folder destinations). */
export function parseConfig(value: unknown, baseDir = process.cwd()): Config {
  const r = ConfigSchema.safeParse(value ?? {});
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${issues}`);
  }
  const c = r.data;
  const abs = (p: string, base: string) => (isAbsolute(p) ? p : resolve(base, p));
  c.dataDir = abs(c.dataDir, baseDir);
  c.inference.models = c.inference.models.map((m) => abs(m, isAbsolute(m) ? '/' : packageRoot()));
  c.destinations = c.destinations.map((d) => (d.type === 'folder' ? { ...d, path: abs(d.path, c.dataDir) } : d));
  const names = new Set<string>();
  for (const d of c.destinations) {
    if (names.has(d.name)) throw new ConfigError(`invalid configuration: destination name "${d.name}" is used twice`);
    names.add(d.name);
  }
  return c;
}

/** Loads a YAML config file (relative paths resolve against its folder), or the defaults when `path` is undefined. */
export function loadConfig(path?: string): Config {
  if (!path) return parseConfig({});
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(e as Error).message}`);
  }
  return parseConfig(value, dirname(resolve(path)));
}
