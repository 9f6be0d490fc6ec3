import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, packageRoot, parseConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'pmct-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('config', () => {
  it('config.example.yaml states the defaults: loading it equals loading nothing, but for paths relative to it', () => {
    const example = loadConfig(join(packageRoot(), 'config.example.yaml'));
    const defaults = parseConfig({}, packageRoot());
    expect(example).toEqual(defaults);
    expect(example.dataDir).toBe(join(packageRoot(), 'var'));
    expect(example.destinations).toEqual([{ name: 'local-folder', type: 'folder', path: join(packageRoot(), 'var', 'outbox') }]);
    expect(example.inference.models).toEqual([join(packageRoot(), 'models/default.ensemble.json')]);
    expect(example.receive.host).toBe('127.0.0.1');
  });

  it('names every invalid key in one message', () => {
    expect(() => parseConfig({ receive: { port: 70000, aeTitle: 'A_TITLE_LONGER_THAN_16' }, inference: { executionProviders: ['tpu'] } })).toThrow(
      /receive\.port.*receive\.aeTitle|receive\.aeTitle.*receive\.port/,
    );
    expect(() => parseConfig({ inference: { executionProviders: ['tpu'] } })).toThrow(/inference\.executionProviders\.0/);
  });

  it('refuses a housekeeping schedule that is not a cron expression', () => {
    expect(() => parseConfig({ housekeeping: { schedule: 'every night' } })).toThrow(/housekeeping\.schedule: not a valid cron expression/);
    expect(parseConfig({ housekeeping: { schedule: '0 2 * * 0' } }).housekeeping.schedule).toBe('0 2 * * 0');
  });

  it('refuses unknown keys (a typo must not silently fall back to a default)', () => {
    expect(() => parseConfig({ recieve: { port: 104 } })).toThrow(/recieve/);
  });

  it('refuses two destinations with the same name', () => {
    const d = { name: 'pacs', type: 'dimse', host: '127.0.0.1', port: 104, calledAeTitle: 'PACS' };
    expect(() => parseConfig({ destinations: [d, d] })).toThrow(/"pacs" is used twice/);
  });

  it('refuses credentials inside a URL (they would reach delivery errors, logs and the API); auth takes them', () => {
    const stow = { name: 'pacs', type: 'stow-rs', url: 'http://svc:Passw0rd@127.0.0.1:8042/dicom-web' };
    expect(() => parseConfig({ destinations: [stow] })).toThrow(/destinations\.0\.url: put credentials in "auth", not in the URL/);
    expect(() => parseConfig({ pull: { url: 'https://u:p@pacs.example/dicom-web' } })).toThrow(/pull\.url: put credentials/);
    expect(parseConfig({ destinations: [{ ...stow, url: 'http://127.0.0.1:8042/dicom-web', auth: { user: 'svc', password: 'Passw0rd' } }] }).destinations[0]).toMatchObject({ auth: { user: 'svc' } });
  });

  it('says which file is not YAML', () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'receive: [port: 104\n');
    expect(() => loadConfig(path)).toThrow(/broken\.yaml is not valid YAML/);
  });
});
