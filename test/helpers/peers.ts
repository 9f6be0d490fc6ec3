/**
 * Real peers for the tests: Orthanc (the PACS, with its DICOMweb plugin), dcmtk's storescu/echoscu (the scanner),
 * dciodvfy/dsrdump (validators). Servers get free high ports on 127.0.0.1, a config in a temp folder, and are
 * stopped by PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../src/config/config.js';

// packageRoot() also holds when this file runs compiled from dist/ (the benchmarks import it).
export const REPO = packageRoot();
export const SHARED = resolve(REPO, '../shared');
export const DATA = join(SHARED, 'data');
export const CQ500 = join(DATA, 'studies/cq500-ct-0');
export const PHANTOM = join(DATA, 'studies/philips-head-phantom');
/** The phantom's axial series (28 slices, uncompressed): small, fast, and called positive by the HU baseline. */
export const PHANTOM_AXIAL = readdirSync(PHANTOM)
  .filter((f) => f.includes('_S2010_'))
  .sort()
  .map((f) => join(PHANTOM, f));

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => res(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pmct-${prefix}-`));
}

export interface Orthanc {
  dicomPort: number;
  httpPort: number;
  aeTitle: string;
  url: string;
  readonly process: ChildProcess;
  down(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  get<T = unknown>(path: string): Promise<T>;
}

/** The C-STORE destination config for a test Orthanc. */
export function orthancDestination(orthanc: Orthanc, name = 'orthanc') {
  return { name, type: 'dimse' as const, host: '127.0.0.1', port: orthanc.dicomPort, calledAeTitle: orthanc.aeTitle };
}

export async function startOrthanc(opts: { aeTitle?: string } = {}): Promise<Orthanc> {
  const dir = tempDir('orthanc');
  const dicomPort = await freePort();
  const httpPort = await freePort();
  const aeTitle = opts.aeTitle ?? 'TESTPACS';
  mkdirSync(join(dir, 'db'));
  const config = {
    Name: 'TEST-PACS',
    StorageDirectory: join(dir, 'db'),
    IndexDirectory: join(dir, 'db'),
    Plugins: ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so'],
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: aeTitle,
    DicomCheckCalledAet: true,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomAlwaysAllowStore: true,
    DicomAlwaysAllowEcho: true,
    DicomCheckModalityHost: false,
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true, Ssl: false },
  };
  writeFileSync(join(dir, 'orthanc.json'), JSON.stringify(config));
  const url = `http://127.0.0.1:${httpPort}`;
  const launch = async (): Promise<ChildProcess> => {
    const proc = spawn('/usr/sbin/Orthanc', [`--logdir=${dir}`, join(dir, 'orthanc.json')], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const r = await fetch(`${url}/system`);
        if (r.ok) return proc;
      } catch {
        // not up yet
      }
      if (proc.exitCode !== null) throw new Error(`Orthanc exited with ${proc.exitCode}; see ${dir}`);
      if (Date.now() > deadline) throw new Error('Orthanc did not start within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  let proc = await launch();
  return {
    dicomPort,
    httpPort,
    aeTitle,
    url,
    get process() {
      return proc;
    },
    /** An outage: Orthanc stops, keeping its storage; `restart` brings it back on the same ports. */
    down: () => stopProcess(proc),
    restart: async () => {
      proc = await launch();
    },
    async get<T>(path: string): Promise<T> {
      const r = await fetch(`${url}${path}`);
      if (!r.ok) throw new Error(`GET ${path}: HTTP ${r.status}`);
      return (await r.json()) as T;
    },
    stop: async () => {
      await stopProcess(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function stopProcess(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  process.kill(proc.pid!, signal);
  const timer = setTimeout(() => proc.pid && proc.exitCode === null && process.kill(proc.pid, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command asynchronously (the node under test runs in this process and must keep serving). */
export function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { env: { ...process.env, TCP_NODELAY: '1', ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.once('error', rej);
    p.once('close', (status) => res({ status, stdout, stderr }));
  });
}

/** dciodvfy's Error lines (its exit code is unreliable). */
export function dciodvfyErrors(file: string): string[] {
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.startsWith('Error'));
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
