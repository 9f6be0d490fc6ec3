/**
 * dcmjs-dimse as the node uses it, with its logging set once: the library's own warnings stay, its per-association
 * INFO chatter goes, and the copy of dcmjs it carries stops warning about every private element of every object
 * it reads (over a thousand lines for one Philips exam). Delivery and receive errors are reported by our code.
 */
import { createRequire } from 'node:module';
import dimse from 'dcmjs-dimse';
import type { Logger } from '../log/logger.js';

dimse.log.setLevel('warn');
const require = createRequire(import.meta.url);
(createRequire(require.resolve('dcmjs-dimse'))('dcmjs') as { log: { setLevel(level: string): void } }).log.setLevel('error');

/** Sends the library's warnings and errors through the node's JSON logger (a service's log stays one format). */
export function routeDimseLogs(logger: Logger): void {
  const log = dimse.log as unknown as { methodFactory: (method: string) => (...args: unknown[]) => void; setLevel(level: string): void };
  log.methodFactory = (method) => (...args) =>
    logger.log(method === 'error' ? 'error' : 'warn', `dcmjs-dimse: ${args.map(String).join(' ').replace(/\s+/g, ' ').trim()}`);
  log.setLevel('warn'); // re-creates the logging methods with the factory above
}

export default dimse;
