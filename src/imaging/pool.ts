/**
 * The imaging worker pool (piscina): one task per file, results in input order.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { FileResult, KeySliceRender, PreprocessOptions } from './preprocess.js';
import type { ImagingTask } from './worker.js';

/**
 * The worker's compiled JavaScript. Worker threads cannot load TypeScript, so when this module itself runs from
 * src/ (under vitest) the worker comes from the build in dist/ (`npm run build`).
 */
function workerPath(): string {
  const js = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(js)) return js;
  const built = js.replace(/\/src\/imaging\/worker\.js$/, '/dist/src/imaging/worker.js');
  if (existsSync(built)) return built;
  throw new Error(`imaging worker not built: ${built} is missing (run \`npm run build\`)`);
}

export class ImagingPool {
  private readonly pool: Piscina<ImagingTask, unknown>;

  constructor(threads = 0) {
    const n = threads > 0 ? threads : Math.max(1, availableParallelism());
    this.pool = new Piscina({ filename: workerPath(), minThreads: 1, maxThreads: n, idleTimeout: 30_000 });
  }

  preprocess(path: string, options: PreprocessOptions): Promise<FileResult> {
    return this.pool.run({ kind: 'preprocess', path, options }) as Promise<FileResult>;
  }

  render(path: string, frame: number, options: Pick<PreprocessOptions, 'rsnaFix' | 'paddingMask'>): Promise<KeySliceRender> {
    return this.pool.run({ kind: 'render', path, frame, options }) as Promise<KeySliceRender>;
  }

  /** Preprocesses every file, at most `threads` at a time, calling `onProgress` as files finish. */
  async preprocessAll(paths: string[], options: PreprocessOptions, onProgress?: (done: number, total: number) => void): Promise<FileResult[]> {
    let done = 0;
    return Promise.all(
      paths.map((p) =>
        this.preprocess(p, options).then((r) => {
          onProgress?.(++done, paths.length);
          return r;
        }),
      ),
    );
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
