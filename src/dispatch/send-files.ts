/**
 * `send`: C-STORE files as stored to a DICOM node (used by `demo`, and handy for sites testing their routing).
 */
import { collectInputs } from '../imaging/assemble.js';
import { createSender } from './destinations.js';

export interface SendOptions {
  host: string;
  port: number;
  called: string;
  calling: string;
}

export async function sendFiles(paths: string[], opts: SendOptions, batch = 500) {
  const files = collectInputs(paths);
  const sender = createSender({ name: 'send', type: 'dimse', host: opts.host, port: opts.port, calledAeTitle: opts.called }, opts.calling);
  const failures: { path: string; error: string }[] = [];
  for (let i = 0; i < files.length; i += batch) {
    const chunk = files.slice(i, i + batch);
    const outcomes = await sender.send(chunk.map((path) => ({ path, sopInstanceUid: '', studyInstanceUid: '' })));
    outcomes.forEach((o, k) => {
      if (!o.ok) failures.push({ path: chunk[k]!, error: o.error });
    });
  }
  return { total: files.length, sent: files.length - failures.length, failures };
}
