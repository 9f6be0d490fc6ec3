/**
 * Progress bars on stderr for long work (preprocessing, inference), via cli-progress. On a non-terminal stderr
 * (CI logs, pipes) a line is printed every few seconds instead of redrawing.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(stage: string, done: number, total: number): void;
  stop(): void;
}

export function createProgress(enabled = true): Progress {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | undefined;
  let current = '';
  return {
    update(stage, done, total) {
      if (stage !== current) {
        bar?.stop();
        current = stage;
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${stage.padEnd(11)} [{bar}] {value}/{total} {percentage}% | {eta_formatted} left`,
            noTTYOutput: true,
            notTTYSchedule: 5000,
            hideCursor: false,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0);
      }
      bar!.update(done);
      if (done >= total) {
        bar!.stop();
        bar = undefined;
        current = '';
      }
    },
    stop() {
      bar?.stop();
    },
  };
}
