import { describe, expect, it } from 'vitest';
import { formatStatus } from '../src/status.js';

describe('formatStatus', () => {
  it('shows aliases, one line per version and the reasons of failed ones', () => {
    const text = formatStatus({
      modelName: 'm',
      champion: '3',
      previousChampion: '1',
      challenger: null,
      versions: [
        {
          version: '3',
          createdAt: '2026-03-05T03:00:00.000Z',
          runId: 'r3',
          aliases: ['champion'],
          gateOutcome: 'PASS',
          gateReasons: 'all 10 checks passed',
          promotion: 'promoted',
          holdout: { auc: 0.71234, logloss: 0.0712, ne: 0.93, calibration: 1.01, rows: 9000 },
          live: {
            at: '2026-03-06T05:10:00.000Z',
            calibration: '1.612 ± 0.041',
            impressions: 48000,
            clicks: 610,
            guard: 'alarm',
            guardReason: 'live calibration Σp/Σy of version 3 outside [0.8, 1.25]',
            topDrift: 'device_type PSI 0.412',
          },
        },
        {
          version: '2',
          createdAt: null,
          runId: 'r2',
          aliases: [],
          gateOutcome: 'FAIL',
          gateReasons: 'auc = 0.5012 (must be >= 0.6000)',
          promotion: 'not-eligible',
          holdout: {},
          live: null,
        },
      ],
    });
    const lines = text.split('\n');
    expect(lines[0]).toBe('model:             m');
    expect(lines[1]).toBe('champion:          3');
    expect(lines[2]).toBe('previous-champion: 1');
    // The holdout's rows are named as such; logloss shows the 6 decimals that tell close models apart; the time has its zone.
    expect(lines[4]).toMatch(
      /^version\s+gate\s+promotion\s+auc\s+logloss\s+ne\s+calib\.\s+holdout rows\s+created\s+aliases$/,
    );
    expect(lines.find((l) => l.startsWith('3 '))).toMatch(
      /^3\s+PASS\s+promoted\s+0\.7123\s+0\.071200\s+0\.9300\s+1\.010\s+9000\s+2026-03-05 03:00:00 UTC\s+champion$/,
    );
    // Columns line up under their headers.
    const header = lines[4] ?? '';
    const three = lines.find((l) => l.startsWith('3 ')) ?? '';
    for (const [name, value] of [
      ['logloss', '0.071200'],
      ['holdout rows', '9000'],
      ['created', '2026-03-05'],
      ['aliases', 'champion'],
    ] as const) {
      expect(three.indexOf(value), name).toBe(header.indexOf(name));
    }
    expect(lines.find((l) => l.startsWith('2 '))).toMatch(/^2\s+FAIL\s+not-eligible\s+-\s+-/);
    expect(text).toContain('reasons: auc = 0.5012 (must be >= 0.6000)');
    expect(text).toContain(
      'live (2026-03-06 05:10 UTC): Σp/Σy 1.612 ± 0.041 over 48000 impressions, 610 clicks; guard alarm; top drift device_type PSI 0.412',
    );
    expect(text).toContain('guard: live calibration Σp/Σy of version 3 outside [0.8, 1.25]');
    expect(text.match(/live \(/g)).toHaveLength(1);
  });

  it('says when nothing is registered yet', () => {
    expect(
      formatStatus({ modelName: 'm', champion: null, previousChampion: null, challenger: null, versions: [] }),
    ).toContain('(no versions registered yet)');
  });

  it('names the challenger in shadow, under the champion, and on its version', () => {
    const text = formatStatus({
      modelName: 'm',
      champion: '1',
      previousChampion: null,
      challenger: '2',
      versions: [
        {
          version: '2',
          createdAt: null,
          runId: 'r2',
          aliases: ['challenger'],
          gateOutcome: 'PASS',
          gateReasons: null,
          promotion: 'challenger',
          holdout: {},
          live: null,
        },
      ],
    });
    const lines = text.split('\n');
    expect(lines.slice(1, 4)).toEqual([
      'champion:          1',
      'previous-champion: (none)',
      'challenger:        2 (in shadow)',
    ]);
    expect(lines.find((l) => l.startsWith('2 '))).toMatch(/\bchallenger\s+-.*\bchallenger$/);
  });
});
