/** The node as the end-to-end tests run it: on 127.0.0.1, a free port, short quiet times, errors-only logs. */
import { parseConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { startNode, type RunningNode } from '../../src/service.js';
import { run } from './peers.js';

export const SCANNER_AE = 'CT_SCANNER';

/** Starts a node in `dataDir`; `overrides` replaces whole config sections (e.g. `destinations`, `ingest`). */
export function startTestNode(dataDir: string, overrides: Record<string, unknown> = {}): Promise<RunningNode> {
  const config = parseConfig({
    dataDir,
    receive: { port: 0, aeTitle: 'PMCT_ICH', allowedCallingAeTitles: [SCANNER_AE] },
    ingest: { quietSeconds: 1, sweepIntervalSeconds: 0.25 },
    dispatch: { intervalSeconds: 0.25 },
    ...overrides,
  });
  return startNode(config, createLogger('error'));
}

/** dcmtk storescu from the "scanner" to the node; `args` are storescu options and files. */
export function storescu(node: RunningNode, args: string[]) {
  return run('storescu', ['-aet', SCANNER_AE, '-aec', 'PMCT_ICH', '127.0.0.1', String(node.port), ...args]);
}
