/**
 * Structured logs (winston, JSON lines) on stderr, so `--json` output on stdout stays clean. Messages carry
 * internal ids (series id, job id, SOP UIDs) and never patient names or IDs.
 */
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(level = process.env.PMCT_LOG_LEVEL ?? 'info'): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] })],
  });
}
