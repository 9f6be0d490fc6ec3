/**
 * Bearer-token roles and the audit trail. Tokens come from config as SHA-256 hashes. Every request to a protected
 * route is written to `audit_log` once answered: who (token name and role), when, from where, what (method, path,
 * target, details) and the HTTP status; requests without a valid token or with the wrong role are recorded as
 * `denied`. The table is append-only (migration 005), so nothing in it can be changed through the API.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config/config.js';
import { nowIso, type Db } from '../db/database.js';

export type Role = Config['api']['tokens'][number]['role'];
export type Caller = { name: string; role: Role };

function authenticate(tokens: Config['api']['tokens'], header: string | undefined): Caller | undefined {
  // The scheme name is case-insensitive (RFC 9110 11.1); the token itself is not.
  const token = /^Bearer +(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (!token) return undefined;
  // Node reads header bytes as Latin-1: back to the bytes sent, so a UTF-8 token hashes as `printf %s TOKEN | sha256sum` does.
  const digest = createHash('sha256').update(Buffer.from(token, 'latin1')).digest();
  const match = tokens.find((t) => timingSafeEqual(Buffer.from(t.sha256, 'hex'), digest));
  return match ? { name: match.name, role: match.role } : undefined;
}

/** What a handler tells the audit trail about the request it served (set on `res.locals.audit`). */
export interface AuditNote {
  target?: string;
  details?: unknown;
}

export function noteAudit(res: Response, note: AuditNote): void {
  res.locals.audit = { ...(res.locals.audit as AuditNote | undefined), ...note };
}

export function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}

/**
 * Refused requests are audited, but a client hammering the API without a token must not fill the disk with rows
 * that can never be pruned: per source address, at most `perMinute` refusals a minute are recorded one by one; the
 * rest are counted and recorded as one summary row when that source's next minute starts.
 */
export class DeniedThrottle {
  private readonly windows = new Map<string, { start: number; recorded: number; suppressed: number }>();
  constructor(private readonly perMinute = 60) {}

  /** 'record' this refusal, 'skip' it, or 'summary' (record it and, first, the count skipped in the last window). */
  take(source: string, now = Date.now()): { action: 'record' | 'skip'; suppressedBefore: number } {
    let w = this.windows.get(source);
    let suppressedBefore = 0;
    if (!w || now - w.start >= 60_000) {
      suppressedBefore = w?.suppressed ?? 0;
      w = { start: now, recorded: 0, suppressed: 0 };
      this.windows.set(source, w);
      if (this.windows.size > 10_000) this.windows.delete(this.windows.keys().next().value!);
    }
    if (w.recorded >= this.perMinute) {
      w.suppressed++;
      return { action: 'skip', suppressedBefore };
    }
    w.recorded++;
    return { action: 'record', suppressedBefore };
  }
}

export function createAuth(db: Db, tokens: Config['api']['tokens']) {
  const throttle = new DeniedThrottle();
  const insert = db.prepare(
    `INSERT INTO audit_log (at, actor, role, source, action, method, path, status, target, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const record = (req: Request, caller: Caller | undefined, action: 'read' | 'change' | 'denied', status: number, note: AuditNote = {}) =>
    insert.run(
      nowIso(),
      caller?.name ?? 'anonymous',
      caller?.role ?? null,
      req.ip ?? req.socket.remoteAddress ?? null,
      action,
      req.method,
      // A path can be made arbitrarily long; the first 512 characters say what was asked.
      req.originalUrl.slice(0, 512),
      status,
      note.target ?? null,
      note.details === undefined ? null : JSON.stringify(note.details),
    );

  /** 401 without a valid token, 403 when its role is not among `roles`; either way, and every answered request, audited. */
  const allow =
    (...roles: Role[]) =>
    (req: Request, res: Response, next: NextFunction) => {
      const caller = authenticate(tokens, req.get('authorization'));
      if (!caller || !roles.includes(caller.role)) {
        const status = caller ? 403 : 401;
        const source = req.ip ?? req.socket.remoteAddress ?? '';
        const t = throttle.take(source);
        if (t.suppressedBefore) record(req, undefined, 'denied', status, { target: 'refusals not recorded one by one', details: { suppressed: t.suppressedBefore, source } });
        if (t.action === 'record') record(req, caller, 'denied', status);
        if (!caller) res.set('WWW-Authenticate', 'Bearer');
        return void res.status(status).json({ error: caller ? `role ${caller.role} may not do this` : 'a valid bearer token is required' });
      }
      res.locals.caller = caller;
      // 'close' fires for answered and aborted requests alike, so a client that hangs up mid-answer is recorded too.
      res.once('close', () => {
        const note = (res.locals.audit as AuditNote | undefined) ?? {};
        const aborted = !res.writableFinished;
        record(req, caller, req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'change', res.statusCode, aborted ? { ...note, details: { ...(note.details as object), aborted: true } } : note);
      });
      next();
    };
  return { allow };
}
