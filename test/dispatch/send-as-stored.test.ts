/**
 * The C-STORE sender (`send`, and dispatch to a PACS) sends files as stored: the data set bytes arrive unchanged
 * (even a truncated one: the receiver, not the sender, judges it), and a file that lacks what a C-STORE needs is
 * refused with its reason while the others go on.
 */
import { copyFileSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFiles } from '../../src/dispatch/send-files.js';
import type { RunningNode } from '../../src/service.js';
import { startTestNode } from '../helpers/node.js';
import { DATA, tempDir } from '../helpers/peers.js';

const EXPLICIT = join(DATA, 'transfer-syntaxes/ct-slice/CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm');
const JPEG_LS = join(DATA, 'transfer-syntaxes/ct1-nema/CT1_UNC.not_fragmented_bot_jpeg_ls.80.dcm');
const NO_SOP_CLASS = join(DATA, 'slices/rsna-ich/ID_1b5ac170c_intraparenchymal.dcm');
const body = (b: Buffer) => b.subarray(144 + b.readUInt32LE(140));

describe('sending files as stored', () => {
  let node: RunningNode;
  let dir: string;
  let truncated: string;
  let result: Awaited<ReturnType<typeof sendFiles>>;

  beforeAll(async () => {
    dir = tempDir('send');
    truncated = join(dir, 'truncated.dcm');
    writeFileSync(truncated, readFileSync(EXPLICIT).subarray(0, statSync(EXPLICIT).size - 200_000));
    copyFileSync(JPEG_LS, join(dir, 'jpeg-ls.dcm'));
    node = await startTestNode(join(dir, 'node'), { receive: { port: 0, allowedCallingAeTitles: ['SENDER'] }, ingest: { quietSeconds: 3600 } });
    result = await sendFiles([NO_SOP_CLASS, join(dir, 'jpeg-ls.dcm'), truncated], { host: '127.0.0.1', port: node.port, called: 'PMCT_ICH', calling: 'SENDER' });
  });

  afterAll(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the file without a SOP Class UID and sends the others', () => {
    expect(result.total).toBe(3);
    expect(result.sent).toBe(2);
    expect(result.failures).toEqual([{ path: NO_SOP_CLASS, error: expect.stringMatching(/no SOP Class UID/) }]);
  });

  it('delivers the data set bytes unchanged, in the syntax they are stored in, truncated or not', () => {
    const rows = node.db.prepare('SELECT transfer_syntax_uid AS ts, path FROM instances ORDER BY ts').all() as { ts: string; path: string }[];
    expect(rows.map((r) => r.ts)).toEqual(['1.2.840.10008.1.2.1', '1.2.840.10008.1.2.4.80']);
    const stored = rows.map((r) => body(readFileSync(join(dir, 'node', 'spool', r.path))));
    expect(Buffer.compare(stored[0]!, body(readFileSync(truncated)))).toBe(0);
    expect(Buffer.compare(stored[1]!, body(readFileSync(JPEG_LS)))).toBe(0);
  });

  it('is told at association time when the node cannot decode a syntax (retired JPEG 4.55), so it can fall back', async () => {
    const retired = join(DATA, 'transfer-syntaxes/ct-slice/CTImage.dcm_JPEGProcess10_12TransferSyntax_1.2.840.10008.1.2.4.55.dcm');
    const r = await sendFiles([retired], { host: '127.0.0.1', port: node.port, called: 'PMCT_ICH', calling: 'SENDER' });
    expect(r.failures).toEqual([
      { path: retired, error: expect.stringMatching(/did not accept SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.2 in the syntax it is stored in \(1\.2\.840\.10008\.1\.2\.4\.55\)/) },
    ]);
    expect(node.db.prepare(`SELECT COUNT(*) FROM instances WHERE transfer_syntax_uid = '1.2.840.10008.1.2.4.55'`).pluck().get()).toBe(0);
  });
});
