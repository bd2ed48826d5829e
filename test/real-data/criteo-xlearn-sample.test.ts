import { describe, expect, it } from 'vitest';
import { CRITEO_START, CRITEO_WINDOW, criteoCsv, libffmToCsvRow } from './criteo-xlearn-sample.js';

const at = new Date('2014-01-01T01:00:00.000Z');

describe('the xlearn Criteo sample as a CSV for clicklog import', () => {
  it('a libffm line becomes served_at, click and one column per field; absent fields stay empty', () => {
    const row = libffmToCsvRow('1 1:77:0.3651 3:5:0.3651 17:12:0.5 17:9:0.5 16:4:0.5\n', at);
    const cells = row.split(',');
    expect(cells).toHaveLength(2 + 18);
    expect(cells.slice(0, 2)).toEqual(['2014-01-01T01:00:00.000Z', '1']);
    expect(cells[2 + 0]).toBe(''); // f0 absent
    expect(cells[2 + 1]).toBe('77');
    expect(cells[2 + 2]).toBe('');
    expect(cells[2 + 3]).toBe('5');
    expect(cells[2 + 16]).toBe('4');
    expect(cells[2 + 17]).toBe('9 12'); // several features of one field: one value, sorted numerically
  });

  it('rejects a line that is not libffm, naming it', () => {
    expect(() => libffmToCsvRow('2 1:77:0.3651', at)).toThrow(/label 2/);
    expect(() => libffmToCsvRow('0 18:1:0.5', at)).toThrow(/bad libffm token 18:1:0.5/);
  });

  it('rows follow the files in order, so the test file is exactly the holdout of the documented window', () => {
    const train = Array.from({ length: 200 }, () => '0 1:1:0.3651');
    const test = Array.from({ length: 200 }, () => '1 1:2:0.3651');
    const lines = criteoCsv(train, test).trimEnd().split('\n');
    expect(lines[0]).toBe(`served_at,click,${Array.from({ length: 18 }, (_, i) => `f${i}`).join(',')}`);
    const times = lines.slice(1).map((l) => Date.parse(l.split(',')[0] as string));
    const end = Date.parse(CRITEO_WINDOW.end);
    const cut = end - CRITEO_WINDOW.holdoutHours * 3_600_000;
    expect(times[0]).toBe(Date.parse(CRITEO_START));
    expect(Date.parse(CRITEO_START)).toBe(end - CRITEO_WINDOW.hours * 3_600_000);
    expect(times.slice(0, 200).every((t) => t < cut)).toBe(true);
    expect(times.slice(200).every((t) => t >= cut && t < end)).toBe(true);
    expect(lines.slice(1, 201).every((l) => l.split(',')[1] === '0')).toBe(true);
  });
});
