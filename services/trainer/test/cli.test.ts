import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/cli.js';
import { cli } from './support/e2e.js';

describe('CLI usage', () => {
  it('prints help for the program and for every command', async () => {
    const main = await cli(['--help'], {});
    expect(main.code).toBe(ExitCode.OK);
    for (const command of ['run', 'schedule', 'rollback', 'status']) {
      expect(main.stdout).toContain(command);
      const r = await cli([command, '--help'], {});
      expect(r.code, command).toBe(ExitCode.OK);
      expect(r.stdout).toMatch(new RegExp(`^Usage: fallback-ctr-trainer ${command}`));
    }
  });

  it('hands `analyze` to the feature-insight command', async () => {
    const r = await cli(['analyze', '--help'], {});
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stdout).toMatch(/^Usage: fallback-ctr-trainer analyze/);
  });

  it('rejects unknown commands, unknown options and bad values with usage', async () => {
    expect((await cli([], {})).code).toBe(ExitCode.USAGE);
    const unknown = await cli(['train'], {});
    expect(unknown.code).toBe(ExitCode.USAGE);
    expect(unknown.stderr).toMatch(/unknown command "train"/);
    const badOption = await cli(['run', '--force'], {});
    expect(badOption.code).toBe(ExitCode.USAGE);
    expect(badOption.stderr).toMatch(/--force/);
    const wrongCommand = await cli(['run', '--to-version', '3'], {});
    expect(wrongCommand.code).toBe(ExitCode.USAGE);
    expect(wrongCommand.stderr).toMatch(/run does not take --to-version/);
    const badVersion = await cli(['rollback', '--to-version', 'latest'], {});
    expect(badVersion.code).toBe(ExitCode.USAGE);
    expect(badVersion.stderr).toMatch(/version number/);
  });

  it('reports a bad FEATURE_SPEC once, as a configuration error, before connecting anywhere', async () => {
    const env = { DATABASE_URL: 'postgres://127.0.0.1:1/none', MLFLOW_TRACKING_URI: 'http://127.0.0.1:1' };
    const r = await cli(['run'], { ...env, FEATURE_SPEC: '{"version":1}' });
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toBe(
      'Invalid configuration: 1 environment variable to fix:\n' +
        '  - FEATURE_SPEC: expected a valid feature spec (hashBits: expected number, received undefined; ' +
        'fields: expected array, received undefined), got "{\\"version\\":1}"\n',
    );
    expect(r.logs).toEqual([]);
    const missingFile = await cli(['schedule'], { ...env, FEATURE_SPEC: 'no-such-spec.json' });
    expect(missingFile.code).toBe(ExitCode.USAGE);
    expect(missingFile.stderr).toMatch(
      /^ {2}- FEATURE_SPEC: expected JSON text or a readable JSON file \(ENOENT.*\), got "no-such-spec\.json"$/m,
    );
    const notJson = await cli(['run'], { ...env, FEATURE_SPEC: '{nope' });
    expect(notJson.stderr).toMatch(/FEATURE_SPEC: expected valid JSON \(/);
  });

  it('reports every bad environment variable at once and exits 2', async () => {
    const r = await cli(['run'], { FTRL_ALPHA: 'fast', ROLLOUT_MODE: 'helm', FEATURE_SPEC: '{"version":1}' });
    expect(r.code).toBe(ExitCode.USAGE);
    for (const name of ['DATABASE_URL', 'MLFLOW_TRACKING_URI', 'FTRL_ALPHA', 'ROLLOUT_MODE', 'FEATURE_SPEC']) {
      expect(r.stderr).toContain(name);
    }
  });
});
