/**
 * QA end to end (must-show c, e, f): real studies sent by storescu (CQ500, the Philips phantom, and the 4 RSNA
 * slices as derived copies with valid UIDs), autopsy ground truth entered through the API, and
 * `/api/qa/performance` equal to scikit-learn's and SciPy's answers for the same scores and labels. Auth answers 401
 * and 403, every patient-data read lands in the audit trail, which cannot be altered; the dashboard runs in headless
 * Chromium: a click into a case, its key slices, the ROC chart drawn, and a markup-laden PatientName shown as text.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/service.js';
import { startTestNode, storescu } from '../helpers/node.js';
import { CQ500, DATA, PHANTOM, REPO, run, tempDir, waitFor } from '../helpers/peers.js';
import { hasPythonStack, hasScipyStack, knownAnswers, py, REF, referenceModels, rsnaCopies } from '../helpers/python.js';

const CHROMIUM = '/usr/bin/chromium';
const MARKUP = '<img src=x onerror=window.pwned=1>^Test';
const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const TOKENS = { qa: 'qa-token-0123456789', admin: 'admin-token-0123456789', sender: 'sender-token-0123456789' };

/** RSNA labels: file -> subtypes (every slice is positive). */
function rsnaSubtypes(): Map<string, string[]> {
  const [head, ...rows] = readFileSync(join(DATA, 'slices/rsna-labels.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
  return new Map(rows.map((r) => [r[0]!, head!.slice(3).filter((_, i) => r[3 + i] === '1')]));
}

interface CaseJson {
  id: number;
  studyUid: string;
  patientName: string | null;
  score: number | null;
  decision: string;
  groundTruth: boolean | null;
}

describe.skipIf(!hasPythonStack || !hasScipyStack)('QA: cases, ground truth, live performance, audit, dashboard', () => {
  let node: RunningNode;
  let dir: string;
  let base: string;
  let tinyManifest: string;
  const studyOf = new Map<string, string>(); // case name -> Study Instance UID
  const labelOf = new Map<string, { hemorrhage: boolean; subtypes: string[] }>();
  const call = (path: string, token?: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
  const cases = async () => (await (await call('/api/cases', TOKENS.qa)).json()) as CaseJson[];

  beforeAll(async () => {
    dir = tempDir('qa-e2e');
    // The reference's tiny CNN (random weights, fixed seed, batch norm calibrated on CQ500) as the node's model: its
    // scores mix the classes, so the statistics below are not at their edge values (the baseline's AUC here is 0).
    py([join(REF, 'preprocess.py'), CQ500, '--out', join(dir, 'calib.npz'), '--jobs', '2']);
    const [tiny] = referenceModels(join(dir, 'models'), ['tiny_cnn'], join(dir, 'calib.npz'));
    tinyManifest = tiny!;
    node = await startTestNode(join(dir, 'node'), {
      imaging: { rsnaFix: true },
      inference: { models: [tiny] },
      api: { port: 0, tokens: Object.entries(TOKENS).map(([role, t]) => ({ name: `it-${role}`, role, sha256: sha(t) })) },
    });
    base = `http://127.0.0.1:${node.apiPort}`;
    const copies = rsnaCopies(join(dir, 'rsna'), { 'ID_1b5ac170c_intraparenchymal.dcm': MARKUP });
    for (const r of [await storescu(node, ['+sd', '+r', '-xs', CQ500]), await storescu(node, ['+sd', '+r', PHANTOM]), await storescu(node, copies)]) {
      expect(r.status, r.stderr).toBe(0);
    }
    await waitFor(() => node.idle() && node.db.prepare('SELECT COUNT(DISTINCT se.study_id) FROM results r JOIN series se ON se.id = r.series_id').pluck().get() === 6, 180_000, '6 studies analysed');
    const uidOf = (sql: string, arg: string) => node.db.prepare(`SELECT st.study_uid FROM studies st JOIN series se ON se.study_id = st.id WHERE ${sql}`).pluck().get(arg) as string;
    studyOf.set('cq500-ct-0', uidOf('se.instance_count = ?', '238'));
    studyOf.set('philips-head-phantom', uidOf('se.description = ?', 'STD BRAIN 5MM'));
    labelOf.set('cq500-ct-0', { hemorrhage: false, subtypes: [] });
    labelOf.set('philips-head-phantom', { hemorrhage: false, subtypes: [] });
    for (const [file, subtypes] of rsnaSubtypes()) {
      studyOf.set(file, uidOf('se.description = ?', `RSNA ${file.split('_').slice(0, 2).join('_')} (test copy)`));
      labelOf.set(file, { hemorrhage: true, subtypes });
    }
  }, 300_000);

  afterAll(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('auth: 401 without a token, 403 for the wrong role, and the refusals are audited', async () => {
    expect((await call('/api/cases')).status).toBe(401);
    expect((await call('/api/cases', 'not-a-token')).status).toBe(401);
    expect((await call('/api/cases', TOKENS.sender)).status).toBe(403);
    expect((await call('/api/audit', TOKENS.qa)).status).toBe(403);
    expect((await call('/api/config', TOKENS.qa)).status).toBe(403);
    expect((await call('/api/cases/1/ground-truth', undefined, { method: 'PUT' })).status).toBe(401);
    const denied = (await (await call('/api/audit?action=denied', TOKENS.admin)).json()) as { actor: string; status: number; path: string }[];
    expect(denied.map((d) => [d.actor, d.status, d.path]).reverse()).toEqual([
      ['anonymous', 401, '/api/cases'],
      ['anonymous', 401, '/api/cases'],
      ['it-sender', 403, '/api/cases'],
      ['it-qa', 403, '/api/audit'],
      ['it-qa', 403, '/api/config'],
      ['anonymous', 401, '/api/cases/1/ground-truth'],
    ]);
  });

  it('lists the six cases with filters, and exports them as CSV with the names as sent', async () => {
    const all = await cases();
    expect(all).toHaveLength(6);
    expect(new Set(all.map((c) => c.studyUid))).toEqual(new Set(studyOf.values()));
    expect(all.find((c) => c.studyUid === studyOf.get('ID_1b5ac170c_intraparenchymal.dcm'))!.patientName).toBe(MARKUP);
    const present = (await (await call('/api/cases?decision=present', TOKENS.qa)).json()) as CaseJson[];
    expect(present.map((c) => c.id).sort()).toEqual(all.filter((c) => c.decision === 'present').map((c) => c.id).sort());
    const high = (await (await call('/api/cases?minScore=0.3', TOKENS.qa)).json()) as CaseJson[];
    expect(high.map((c) => c.id).sort()).toEqual(all.filter((c) => c.score! >= 0.3).map((c) => c.id).sort());
    const delivered = (await (await call('/api/cases?dispatch=delivered', TOKENS.qa)).json()) as CaseJson[];
    expect(delivered).toHaveLength(6);
    expect((await (await call('/api/cases?to=2000-01-01', TOKENS.qa)).json()) as CaseJson[]).toHaveLength(0);
    expect((await call('/api/cases?decision=maybe', TOKENS.qa)).status).toBe(400);
    const csv = await (await call('/api/cases.csv', TOKENS.qa)).text();
    const lines = csv.trim().split('\n');
    expect(lines[0]).toMatch(/^case_id,study_uid,patient_id,patient_name/);
    expect(lines).toHaveLength(7);
    expect(csv).toContain('<img src=x onerror=window.pwned=1>');
  });

  it('records autopsy ground truth with history; bad input is refused', async () => {
    const all = await cases();
    const idOf = (name: string) => all.find((c) => c.studyUid === studyOf.get(name))!.id;
    const put = (id: number, body: unknown, token = TOKENS.qa) =>
      call(`/api/cases/${id}/ground-truth`, token, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    // A first, mistaken entry for CQ500, corrected below: both stay in the history.
    expect((await put(idOf('cq500-ct-0'), { hemorrhage: true, subtypes: ['subarachnoid'], note: '1 of 3 readers' })).status).toBe(201);
    for (const [name, label] of labelOf) {
      const r = await put(idOf(name), { ...label, autopsyDate: '2026-11-30', note: 'autopsy report' });
      expect(r.status, await r.clone().text()).toBe(201);
    }
    expect((await put(idOf('cq500-ct-0'), { hemorrhage: false, subtypes: ['subdural'] })).status).toBe(400);
    expect((await put(idOf('cq500-ct-0'), { hemorrhage: 'maybe' })).status).toBe(400);
    expect((await put(99999, { hemorrhage: false })).status).toBe(404);
    expect((await put(idOf('cq500-ct-0'), { hemorrhage: false }, TOKENS.sender)).status).toBe(403);
    const detail = (await (await call(`/api/cases/${idOf('cq500-ct-0')}`, TOKENS.qa)).json()) as { groundTruthHistory: { hemorrhage: boolean; enteredBy: string; subtypes: string[] }[] };
    expect(detail.groundTruthHistory.map((g) => [g.hemorrhage, g.subtypes, g.enteredBy])).toEqual([
      [false, [], 'it-qa'],
      [true, ['subarachnoid'], 'it-qa'],
    ]);
    expect(() => node.db.prepare('UPDATE ground_truth SET hemorrhage = 1').run()).toThrow(/append-only/);
  });

  it('case detail: series, skipped files, per-slice probabilities, outputs, deliveries', async () => {
    const phantom = (await cases()).find((c) => c.studyUid === studyOf.get('philips-head-phantom'))!;
    const d = (await (await call(`/api/cases/${phantom.id}`, TOKENS.qa)).json()) as {
      series: unknown[];
      skipped: { code: string }[];
      results: { status: string; caseScore: number | null; slices?: { probability: number }[] }[];
      outputs: { kind: string; deliveries: { state: string }[] }[];
    };
    expect(d.series).toHaveLength(3);
    expect(d.skipped.map((s) => s.code).sort()).toEqual(['localizer', 'secondary-capture', 'secondary-capture']);
    const analysed = d.results.find((r) => r.status === 'analysed')!;
    expect(analysed.slices).toHaveLength(28);
    expect(Math.max(...analysed.slices!.map((s) => s.probability))).toBeCloseTo(analysed.caseScore!, 12);
    expect(d.outputs.map((o) => o.kind).sort()).toEqual(['kos', 'sc', 'sc', 'sc', 'sr']);
    expect(d.outputs.every((o) => o.deliveries.every((x) => x.state === 'delivered'))).toBe(true);
    const sc = (d.outputs as unknown as { id: number; kind: string }[]).find((o) => o.kind === 'sc')!;
    const png = Buffer.from(await (await call(`/api/cases/${phantom.id}/images/${sc.id}.png`, TOKENS.qa)).arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('performance equals scikit-learn and SciPy on the same scores and labels', async () => {
    const all = await cases();
    expect(all.every((c) => c.groundTruth !== null)).toBe(true);
    const perf = (await (await call('/api/qa/performance', TOKENS.qa)).json()) as {
      threshold: number;
      cases: number;
      auc: { auc: number; ci95: [number, number] | null; undefinedReason: string | null };
      youden: { threshold: number | null; sensitivity: number; specificity: number } | null;
      atThreshold: { tp: number; fp: number; tn: number; fn: number; sensitivity: number; specificity: number; ppv: number | null; npv: number | null };
      roc: { threshold: number | null; fpr: number; tpr: number }[];
      monthly: { month: string; cases: number }[];
      notes: string[];
    };
    const ordered = [...all].reverse();
    const [k] = knownAnswers([{ scores: ordered.map((c) => c.score!), labels: ordered.map((c) => c.groundTruth!), threshold: perf.threshold }]);
    expect(perf.threshold).toBe(node.ensemble.threshold.value);
    expect(perf.cases).toBe(6);
    expect(perf.auc.auc).toBeCloseTo(k!.auc, 12);
    expect(perf.roc.slice(1).map((p) => [p.threshold, p.fpr, p.tpr])).toEqual(k!.roc.slice(1).map(([t, f, r]) => [t, expect.closeTo(f, 12), expect.closeTo(r, 12)]));
    expect(perf.atThreshold).toMatchObject({ tp: k!.confusion.tp, fp: k!.confusion.fp, tn: k!.confusion.tn, fn: k!.confusion.fn });
    for (const key of ['sensitivity', 'specificity', 'ppv', 'npv'] as const) {
      if (k!.confusion[key] === null) expect(perf.atThreshold[key]).toBeNull();
      else expect(perf.atThreshold[key]).toBeCloseTo(k!.confusion[key]!, 12);
    }
    // Youden: scikit-learn's argmax of TPR - FPR; when no threshold beats chance (J = 0) the node says so (null).
    const j = k!.youden.sensitivity + k!.youden.specificity - 1;
    if (j > 0) expect(perf.youden).toMatchObject({ threshold: k!.youden.threshold, sensitivity: expect.closeTo(k!.youden.sensitivity, 12), specificity: expect.closeTo(k!.youden.specificity, 12) });
    else expect(perf.youden!.threshold).toBeNull();
    // DeLong: a number where SciPy's is finite and positive, else the reason in words.
    if (k!.se > 0) {
      expect(perf.auc.ci95![0]).toBeCloseTo(k!.ci95[0], 10);
      expect(perf.auc.ci95![1]).toBeCloseTo(k!.ci95[1], 10);
    } else {
      expect(perf.auc.ci95).toBeNull();
      expect(perf.notes.join('\n')).toMatch(/DeLong 95% CI not given/);
    }
    expect(perf.monthly.reduce((n, m) => n + m.cases, 0)).toBe(6);
    console.log(
      `performance: ${perf.cases} cases, AUC ${perf.auc.auc.toFixed(4)} (sklearn ${k!.auc.toFixed(4)}), CI ${JSON.stringify(perf.auc.ci95)} ${perf.auc.undefinedReason ?? ''}; ` +
        `at ${perf.threshold}: TP ${perf.atThreshold.tp} FP ${perf.atThreshold.fp} TN ${perf.atThreshold.tn} FN ${perf.atThreshold.fn}; Youden ${JSON.stringify(perf.youden)}`,
    );
  });

  it('refuses malformed input with 4xx and a reason, never 500', async () => {
    const id = (await cases())[0]!.id;
    const put = (body: string, type = 'application/json') => call(`/api/cases/${id}/ground-truth`, TOKENS.qa, { method: 'PUT', headers: { 'Content-Type': type }, body });
    const answers = {
      'malformed JSON': (await put('{bad')).status,
      'JSON null': (await put('null')).status,
      'body over 64 kB': (await put(JSON.stringify({ hemorrhage: false, note: 'x'.repeat(70_000) }))).status,
      'not JSON': (await put('hemorrhage=false', 'application/x-www-form-urlencoded')).status,
      'future autopsy date': (await put(JSON.stringify({ hemorrhage: false, autopsyDate: '2999-01-01' }))).status,
      'subtype twice': (await put(JSON.stringify({ hemorrhage: true, subtypes: ['subdural', 'subdural'] }))).status,
      'impossible date': (await call('/api/cases?to=2026-13-45', TOKENS.qa)).status,
      'rolled-over date': (await call('/api/qa/performance?to=2026-02-30', TOKENS.qa)).status,
      'hex case id': (await call('/api/cases/0x2', TOKENS.qa)).status,
      'exponent image id': (await call(`/api/cases/${id}/images/1e0.png`, TOKENS.qa)).status,
      'unknown route': (await call('/api/nothing', TOKENS.qa)).status,
    };
    expect(answers).toEqual({
      'malformed JSON': 400,
      'JSON null': 400,
      'body over 64 kB': 413,
      'not JSON': 415,
      'future autopsy date': 400,
      'subtype twice': 400,
      'impossible date': 400,
      'rolled-over date': 400,
      'hex case id': 400,
      'exponent image id': 400,
      'unknown route': 404,
    });
    // An empty filter value means "not given" (not 0), and the bearer scheme is case-insensitive.
    expect((await (await call('/api/cases?maxScore=&minScore=', TOKENS.qa)).json()) as unknown[]).toHaveLength(6);
    const lower = await fetch(`${base}/api/cases`, { headers: { Authorization: `bearer ${TOKENS.qa}` } });
    expect(lower.status).toBe(200);
    expect(lower.headers.get('cache-control')).toBe('no-store');
    expect(lower.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await (await call('/api/cases.csv', TOKENS.qa)).arrayBuffer()).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });

  it('calibrate --from-db picks the same Youden threshold from the ground truth entered in the node', async () => {
    const perf = (await (await call('/api/qa/performance', TOKENS.qa)).json()) as { youden: { threshold: number } };
    const cfg = join(dir, 'calibrate.yaml');
    writeFileSync(cfg, `dataDir: ${join(dir, 'node')}\ninference:\n  models: [${tinyManifest}]\n`);
    const out = join(dir, 'calibrated.model.json');
    const r = await run(process.execPath, [join(REPO, 'dist/src/cli.js'), '--config', cfg, 'calibrate', '--from-db', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const t = (JSON.parse(readFileSync(out, 'utf8')) as { threshold: { value: number; method: string; provenance: { cases: unknown[] } } }).threshold;
    expect(t).toMatchObject({ value: perf.youden.threshold, method: 'youden' });
    expect(t.provenance.cases).toHaveLength(6);
  });

  it('/metrics speaks the Prometheus text format, from the database', async () => {
    const text = await (await call('/metrics')).text();
    const instances = node.db.prepare('SELECT COUNT(*) FROM instances').pluck().get() as number;
    expect(text).toContain(`pmct_instances_received ${instances}`);
    expect(text).toMatch(/# TYPE pmct_dispatches gauge/);
    expect(text).toMatch(/pmct_jobs\{state="done"\} \d+/);
    expect(text).toMatch(/pmct_process_cpu_seconds_total/);
  });

  describe.skipIf(!existsSync(CHROMIUM))('dashboard in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
    });

    it('clicks into a case, shows its key slices and the markup name as text, and draws the ROC chart', async () => {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`${base}/dashboard/`);
      await page.fill('#token', TOKENS.qa);
      await page.click('#login button');
      await page.waitForSelector('tr.case');
      expect(await page.locator('tr.case').count()).toBe(6);
      const target = (await cases()).find((c) => c.studyUid === studyOf.get('ID_1b5ac170c_intraparenchymal.dcm'))!;
      await page.click(`tr.case[data-case="${target.id}"]`);
      await page.waitForSelector('#patient-name');
      expect(await page.textContent('#patient-name')).toBe(target.patientName);
      expect(await page.locator('#patient-name img, #view img:not([data-output])').count()).toBe(0);
      await page.waitForFunction("[...document.querySelectorAll('img[data-output]')].every((i) => i.naturalWidth > 0)");
      const detail = (await (await call(`/api/cases/${target.id}`, TOKENS.qa)).json()) as { outputs: { kind: string }[] };
      expect(await page.locator('img[data-output]').count()).toBe(detail.outputs.filter((o) => o.kind === 'sc').length);
      expect(await page.evaluate('typeof window.pwned')).toBe('undefined');
      await page.click('a[href="#performance"]');
      await page.waitForSelector('#roc-chart polyline.roc-curve');
      const points = await page.getAttribute('#roc-chart polyline.roc-curve', 'points');
      const perf = (await (await call('/api/qa/performance', TOKENS.qa)).json()) as { roc: unknown[] };
      expect(points!.trim().split(' ')).toHaveLength(perf.roc.length);
      expect(await page.locator('#drift-chart polyline').count()).toBeGreaterThan(0);
      expect(pageErrors).toEqual([]);
      await page.screenshot({ path: join(dir, 'dashboard.png'), fullPage: true });
    }, 60_000);
  });

  it('every patient-data read is in the audit trail, with who and from where; the trail cannot be altered', async () => {
    const audit = (await (await call('/api/audit?limit=10000', TOKENS.admin)).json()) as { actor: string; action: string; target: string | null; source: string; path: string; status: number }[];
    const reads = audit.filter((a) => a.action === 'read' && a.actor === 'it-qa');
    const targets = reads.map((a) => a.target ?? '');
    expect(targets.some((t) => t.startsWith('cases (list of 6)'))).toBe(true);
    expect(targets.some((t) => t.startsWith('cases (CSV of 6)'))).toBe(true);
    expect(targets.some((t) => /^case \d+$/.test(t))).toBe(true);
    expect(targets.some((t) => /^case \d+ image \d+/.test(t))).toBe(true);
    // The dashboard's own requests (browser) are audited like any other.
    expect(reads.filter((a) => a.path.startsWith('/api/cases/') && a.path.endsWith('.png')).length).toBeGreaterThanOrEqual(2);
    expect(audit.filter((a) => a.action === 'change' && a.target?.endsWith('ground truth')).length).toBeGreaterThanOrEqual(7);
    expect(audit.every((a) => a.source && /127\.0\.0\.1/.test(a.source))).toBe(true);
    expect(() => node.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(() => node.db.prepare("UPDATE audit_log SET actor = 'x'").run()).toThrow(/append-only/);
    // Reading the trail is itself recorded.
    expect(audit.some((a) => a.actor === 'it-admin' && a.target === 'audit log')).toBe(true);
  });
});
