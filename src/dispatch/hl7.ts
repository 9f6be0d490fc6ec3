/**
 * The HL7 v2 worklist flag: an ORU^R01 (v2.5) carrying the study's accession number, the finding and a priority,
 * sent over MLLP and delivered when the receiver ACKs it. Written by hand: the message is a handful of segments and
 * MLLP is three framing bytes, while the maintained HL7 libraries for Node need Node 22 or pull in a web stack.
 */
import net from 'node:net';
import type { Config } from '../config/config.js';

type Hl7Channel = Config['flags']['hl7'][number];

export interface OruContent {
  controlId: string;
  sendingApplication: string;
  patientId: string | null;
  accessionNumber: string | null;
  studyInstanceUid: string;
  caseScore: number;
  threshold: number;
  at: Date;
}

/** HL7 escape sequences for the delimiters (v2.5 2.7.4), so header text cannot break the message structure. */
export function hl7Escape(s: string): string {
  return s.replace(/\\/g, '\\E\\').replace(/\|/g, '\\F\\').replace(/\^/g, '\\S\\').replace(/&/g, '\\T\\').replace(/~/g, '\\R\\').replace(/[\r\n]/g, ' ');
}

const ts = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14);

/** A segment from its fields by position (field 1 first), so each value lands where the standard puts it. */
function segment(id: string, fields: Record<number, string>): string {
  const n = Math.max(...Object.keys(fields).map(Number));
  return [id, ...Array.from({ length: n }, (_, i) => fields[i + 1] ?? '')].join('|');
}

export function oruMessage(c: OruContent, ch: Hl7Channel): string {
  const e = hl7Escape;
  const at = ts(c.at);
  return [
    `MSH|^~\\&|${e(c.sendingApplication)}||${e(ch.receivingApplication)}|${e(ch.receivingFacility)}|${at}||ORU^R01^ORU_R01|${e(c.controlId)}|P|2.5`,
    segment('PID', { 1: '1', 3: e(c.patientId ?? '') }),
    // OBR-3 filler order number = accession number; OBR-5 priority S (stat); OBR-25 result status P (preliminary).
    segment('OBR', { 1: '1', 3: e(c.accessionNumber ?? ''), 4: 'ICH-AI^AI intracranial hemorrhage screen^L', 5: 'S', 7: at, 25: 'P' }),
    segment('OBX', { 1: '1', 2: 'CE', 3: 'ICH^Intracranial hemorrhage^L', 5: 'Y^Suspected^HL70136', 8: 'A', 11: 'P' }),
    segment('OBX', { 1: '2', 2: 'NM', 3: 'ICH-SCORE^AI case score^L', 5: c.caseScore.toFixed(4), 7: `>=${c.threshold}`, 11: 'P' }),
    segment('OBX', { 1: '3', 2: 'ST', 3: 'ICH-NOTE^Note^L', 5: `AI result, not for diagnostic use. Study ${e(c.studyInstanceUid)}`, 11: 'P' }),
  ].join('\r');
}

const VT = '\x0b';
const FS_CR = '\x1c\r';

/** Sends one message over MLLP and resolves with the ACK's MSA-1 code; rejects on network errors and timeouts. */
export function sendMllp(ch: Hl7Channel, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: ch.host, port: ch.port });
    let reply = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no ACK within ${ch.timeoutSeconds} s`)), ch.timeoutSeconds * 1000);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(VT + message + FS_CR));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      const end = reply.indexOf(FS_CR);
      if (end < 0) return;
      clearTimeout(timer);
      socket.end();
      const msa = reply.slice(reply.indexOf(VT) + 1, end).split('\r').find((s) => s.startsWith('MSA|'));
      if (!msa) return reject(new Error('the reply has no MSA segment'));
      resolve(msa.split('|')[1] ?? '');
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
