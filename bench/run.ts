/**
 * Benchmarks, each side by side with a peer on the same machine in the same run (ratios, not absolute targets):
 *  1. ingest: the node's SCP vs dcmtk storescp receiving the CQ500 study from storescu -xs (MB/s);
 *  2. preprocessing: the node's imaging pool vs the Python reference preprocess.py (slices/s);
 *  3. inference: ms/slice per model (the baseline, and the reference tiny_cnn when Python/torch are present);
 *  4. end to end: seconds from storescu's last C-STORE response to the SR stored in Orthanc;
 *  5. peak RSS of the node process (VmHWM).
 * Run: npm run bench (after npm run build). Prints a table on stdout; figures are not pass/fail.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CQ500, REPO, SHARED, freePort, run, startOrthanc, stopProcess, tempDir } from '../test/helpers/peers.js';

const CLI = join(REPO, 'dist/src/cli.js');
const studyBytes = readdirSync(CQ500).reduce((n, f) => n + statSync(join(CQ500, f)).size, 0);
const MB = studyBytes / 1e6;
const rows: [string, string, string, string][] = [];
const note = (what: string, node: string, peer: string, ratio: string) => {
  rows.push([what, node, peer, ratio]);
  process.stderr.write(`bench: ${what}: ${node} | ${peer} | ${ratio}\n`);
};

async function waitPort(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await run('echoscu', ['-aet', 'BENCH', '-aec', 'PMCT_ICH', '127.0.0.1', String(port)]);
    if (r.status === 0) return;
    if (Date.now() > deadline) throw new Error(`nothing answers C-ECHO on ${port}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Starts `serve` as a child with a config file; resolves once it answers C-ECHO. */
async function startServe(dir: string, config: object) {
  const port = await freePort();
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({ dataDir: dir, receive: { port, allowedCallingAeTitles: ['*'] }, log: { level: 'warn' }, ...config }));
  const proc = spawn(process.execPath, [CLI, '--config', path, 'serve'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitPort(port);
  return { proc, port };
}

async function storescu(port: number, aec: string) {
  const t0 = performance.now();
  const r = await run('storescu', ['-xs', '+sd', '-aet', 'BENCH', '-aec', aec, '127.0.0.1', String(port), CQ500]);
  if (r.status !== 0) throw new Error(`storescu failed: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

async function ingest(): Promise<void> {
  const best = async (f: () => Promise<number>) => Math.min(await f(), await f(), await f());
  let rss = 0;
  const tNode = await best(async () => {
    const dir = tempDir('bench-ingest');
    // A long quiet time keeps analysis out of the measurement: this is receive + store + register only.
    const node = await startServe(dir, { ingest: { quietSeconds: 3600 } });
    const t = await storescu(node.port, 'PMCT_ICH');
    rss = Math.max(rss, peakRssMb(node.proc.pid!));
    await stopProcess(node.proc);
    rmSync(dir, { recursive: true, force: true });
    return t;
  });
  const tPeer = await best(async () => {
    const dir = tempDir('bench-storescp');
    const port = await freePort();
    const p = spawn('storescp', ['-aet', 'PMCT_ICH', '+xa', '-od', dir, String(port)], { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } });
    await waitPort(port);
    const t = await storescu(port, 'PMCT_ICH');
    await stopProcess(p);
    rmSync(dir, { recursive: true, force: true });
    return t;
  });
  note('ingest CQ500 (238 files, JPEG Lossless)', `${(MB / tNode).toFixed(0)} MB/s (${tNode.toFixed(2)} s)`, `storescp ${(MB / tPeer).toFixed(0)} MB/s (${tPeer.toFixed(2)} s)`, `${(tPeer / tNode).toFixed(2)}x`);
  note('peak RSS, node while receiving (max of 3 runs)', `${rss.toFixed(0)} MB`, '', '');
}

function analyzeTimed(args: string[]) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'analyze', CQ500, '--json', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`analyze failed: ${r.stderr}`);
  return { seconds: (performance.now() - t0) / 1000, json: JSON.parse(r.stdout) as { series: { msPerSlice: Record<string, number> }[] } };
}

function preprocessAndInference(): void {
  const PY = '/usr/bin/python3';
  const REF = join(SHARED, 'tools/reference');
  const node = analyzeTimed([]);
  for (const [model, ms] of Object.entries(node.json.series[0]!.msPerSlice)) note(`inference ${model}`, `${ms.toFixed(2)} ms/slice`, '', '');
  const hasTorch = spawnSync(PY, ['-c', 'import torch, pydicom']).status === 0;
  if (!hasTorch) {
    note('preprocess + inference (analyze, whole study)', `${node.seconds.toFixed(1)} s`, 'reference not installed', '');
    return;
  }
  const dir = tempDir('bench-ref');
  const t0 = performance.now();
  const pre = spawnSync(PY, [join(REF, 'preprocess.py'), CQ500, '--out', join(dir, 'cq.npz'), '--jobs', '2'], { encoding: 'utf8' });
  const tRef = (performance.now() - t0) / 1000;
  if (pre.status !== 0) throw new Error(pre.stderr);
  // Node: analyze with the baseline only, minus its inference time, is dominated by preprocessing.
  note('analyze CQ500 end to end (decode, preprocess, baseline inference)', `${node.seconds.toFixed(1)} s`, `preprocess.py --jobs 2: ${tRef.toFixed(1)} s (preprocessing only)`, `${(tRef / node.seconds).toFixed(2)}x`);
  spawnSync(PY, [join(REF, 'make_models.py'), '--out', join(dir, 'models'), '--models', 'tiny_cnn', '--calib', join(dir, 'cq.npz')], { encoding: 'utf8' });
  const info = JSON.parse(readFileSync(join(dir, 'models/models.json'), 'utf8')) as Record<string, { sha256: string }>;
  const manifest = join(dir, 'models/tiny_cnn.model.json');
  writeFileSync(manifest, JSON.stringify({ kind: 'model', name: 'tiny_cnn', version: 'ref', file: 'tiny_cnn.onnx', sha256: info.tiny_cnn!.sha256, input: { name: 'input' }, output: { name: 'logits', kind: 'logit' } }));
  const tiny = analyzeTimed(['--models', manifest]);
  const inf = spawnSync(PY, [join(REF, 'infer.py'), '--models', join(dir, 'models'), '--tensors', join(dir, 'cq.npz'), '--out', join(dir, 'r.json'), '--threads', '2'], { encoding: 'utf8' });
  if (inf.status !== 0) throw new Error(inf.stderr);
  const refMs = (JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { models: Record<string, { s_per_slice: number }> }).models.tiny_cnn!.s_per_slice * 1000;
  const ms = tiny.json.series[0]!.msPerSlice.tiny_cnn!;
  note('inference tiny_cnn (reference model)', `${ms.toFixed(2)} ms/slice (onnxruntime-node)`, `PyTorch ${refMs.toFixed(2)} ms/slice`, `${(refMs / ms).toFixed(2)}x`);
  rmSync(dir, { recursive: true, force: true });
}

async function endToEnd(): Promise<void> {
  const orthanc = await startOrthanc();
  const dir = tempDir('bench-e2e');
  mkdirSync(dir, { recursive: true });
  const quiet = 1;
  const node = await startServe(dir, {
    ingest: { quietSeconds: quiet, sweepIntervalSeconds: 0.1 },
    dispatch: { intervalSeconds: 0.1 },
    destinations: [{ name: 'orthanc', type: 'dimse', host: '127.0.0.1', port: orthanc.dicomPort, calledAeTitle: orthanc.aeTitle }],
  });
  try {
    await storescu(node.port, 'PMCT_ICH');
    const t0 = performance.now();
    for (;;) {
      const studies = await orthanc.get<string[]>('/studies');
      if (studies.length > 0) {
        const series = await orthanc.get<{ MainDicomTags: { Modality: string } }[]>(`/studies/${studies[0]}/series`);
        if (series.some((s) => s.MainDicomTags.Modality === 'SR')) break;
      }
      if (performance.now() - t0 > 600_000) throw new Error('no SR in Orthanc after 10 min');
      await new Promise((r) => setTimeout(r, 100));
    }
    const t = (performance.now() - t0) / 1000;
    note('end to end: last C-STORE response -> SR in Orthanc', `${t.toFixed(1)} s (incl. ${quiet} s quiet time)`, '', '');
    note('peak RSS, node (receive + analyse + dispatch)', `${peakRssMb(node.proc.pid!).toFixed(0)} MB`, '', '');
  } finally {
    await stopProcess(node.proc);
    await orthanc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await ingest();
preprocessAndInference();
await endToEnd();
const table = [['measure', 'pmct-ich-node', 'peer', 'peer time / node time'], ...rows];
process.stdout.write(table.map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n');
