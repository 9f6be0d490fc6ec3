import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './config/config.js';

let cached: string | undefined;
/** The package version from package.json (written into every output object). */
export function packageVersion(): string {
  cached ??= (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return cached;
}
