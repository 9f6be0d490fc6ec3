/**
 * dcmjs-dimse as the node uses it, with its logging set once: the library's own warnings stay, its per-association
 * INFO chatter goes, and the copy of dcmjs it carries stops warning about every private element of every object
 * it reads (over a thousand lines for one Philips exam). Delivery and receive errors are reported by our code.
 */
import { createRequire } from 'node:module';
import dimse from 'dcmjs-dimse';

dimse.log.setLevel('warn');
const require = createRequire(import.meta.url);
(createRequire(require.resolve('dcmjs-dimse'))('dcmjs') as { log: { setLevel(level: string): void } }).log.setLevel('error');

export default dimse;
