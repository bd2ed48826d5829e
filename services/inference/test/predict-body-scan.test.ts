import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/index.js';
import { createModelHolder } from '../src/model-holder.js';
import { createPredictBodyScan } from '../src/predict-body-scan.js';
import { predictRequest } from './api-requests.js';
import { makeLoadedModel, seededRandom } from './fixtures.js';

type App = Awaited<ReturnType<typeof buildApp>>;

const MAX_BATCH = 12;
const COLUMNS = ['slot_id', 'placement', 'ad_id', 'campaign_id', 'advertiser_id', 'device_type', 'os', 'country'];
const CONTEXT = ['hour_of_day', 'user_age_days', 'page_views', 'site_category'];

/**
 * Bodies written as JSON text, so that what JSON.stringify never writes is sent too: whitespace, repeated
 * keys, numbers in every spelling, escapes, raw control and non-ASCII bytes, broken syntax, limits ± 1.
 * Most are of the common shape the fused scan reads; each odd feature is rare, so bodies with exactly
 * one of them are frequent.
 */
function bodies(seed: number) {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const rarely = (p = 0.03) => random() < p;
  const ws = () => (rarely(0.05) ? pick([' ', '\n', '\t', '\r\n  ', '  ']) : '');
  const plain = (max: number) => {
    let s = '';
    for (let i = int(max); i > 0; i--) s += pick(['a', 'b', 'Z', '0', '7', '-', '_', ' ', '/', '~', '.', ':', "'"]);
    return s;
  };
  const str = (): string => {
    if (rarely(0.005))
      return `"${plain(3)}${pick(['\\"', '\\\\', '\\u0041', '\\n', '\\/', 'é', '日本', '🙂', '\u0001', '\u007f'])}${plain(3)}"`;
    if (rarely(0.003)) return `"${'x'.repeat(pick([1023, 1024, 1025]))}"`;
    return `"${plain(10)}"`;
  };
  const num = (): string =>
    pick([
      () => String(int(1000) - 300),
      () => String(int(30)),
      () =>
        !rarely(0.15)
          ? '-1'
          : pick([
              '0',
              '-0',
              '1.0',
              '1.5',
              '-2.25',
              '1e2',
              '1E-3',
              '2.5e+1',
              '100000000000000',
              '1000000000000000',
              '12345678901234567',
              '9007199254740993',
              '36897570693870092',
              '38495029368938248215',
              '1e400',
              '-1e400',
              '0.1',
              '5e-324',
              '023',
              '1.',
              '.5',
              '+1',
              '-',
              '1e',
              '0x10',
              'NaN',
              'Infinity',
            ]),
    ])();
  const scalar = (): string =>
    pick([str, str, num, num, () => (rarely(0.1) ? pick(['tru', 'nul', 'True']) : pick(['true', 'false', 'null']))])();
  const key = (known: readonly string[]): string => {
    if (rarely(0.01)) return `"${'k'.repeat(pick([128, 129]))}"`;
    if (rarely(0.005)) return pick(['"\\u006fs"', '"os\\n"', '"é"', '""', '"__proto__"', '"constructor"']);
    return `"${pick(known)}"`;
  };
  const context = (): string => {
    if (rarely()) return pick(['[]', '"x"', '1', 'null', '{"hour_of_day":{}}', '{"a":[1]}']);
    const n = rarely() ? pick([64, 65]) : int(7);
    // The spec's keys in any order, once each (now and then one twice), and other keys beside them.
    const names = [...CONTEXT, 'x0', 'x1'].sort(() => random() - 0.5);
    if (rarely()) names.push(pick([...CONTEXT, 'x0']));
    const members: string[] = [];
    for (let i = 0; i < n; i++) {
      const k = n > 20 ? `"k${i}"` : i < names.length ? key([names[i] as string]) : key(CONTEXT);
      members.push(`${ws()}${k}${ws()}:${ws()}${scalar()}${ws()}`);
    }
    return `{${members.join(',')}}`;
  };
  const impression = (): string => {
    if (rarely()) return pick(['[]', '"x"', '1', 'null', '{"os":1}', '{"os":null}', '{"id":7}', '{"ignored":{"a":1}}']);
    const members: string[] = [];
    const keys = [...COLUMNS, 'id', 'context'].filter(() => random() < 0.7);
    if (rarely()) keys.push(pick([...COLUMNS, 'id', 'context'])); // a key twice
    if (rarely()) keys.push(pick(['extra', 'ID', 'Os']));
    for (const k of keys.sort(() => random() - 0.5)) {
      const value =
        k === 'context'
          ? context()
          : k === 'id' && rarely(0.02)
            ? `"${'i'.repeat(pick([256, 257]))}"`
            : k === 'extra' && rarely(0.5)
              ? pick(['[1,2]', '{"a":{"b":1}}'])
              : str();
      members.push(`${ws()}"${k}"${ws()}:${ws()}${value}${ws()}`);
    }
    return `{${members.join(',')}}`;
  };
  return (): string => {
    const n = rarely() ? pick([0, MAX_BATCH, MAX_BATCH + 1]) : 1 + int(6);
    let text = `${ws()}{${ws()}"impressions"${ws()}:${ws()}[${Array.from({ length: n }, () => `${ws()}${impression()}${ws()}`).join(',')}]${ws()}}${ws()}`;
    if (rarely()) text = text.replace('{', pick(['{"more":1,', '{"impressions":[{}],']));
    if (rarely()) text = `${text}${pick(['x', '}', ',', '[]'])}`;
    if (rarely()) {
      const at = int(text.length);
      text = rarely(0.5)
        ? text.slice(0, at)
        : `${text.slice(0, at)}${pick(['"', '}', ']', ',', ':', '\\', ' '])}${text.slice(at)}`;
    }
    return text;
  };
}

describe('the fused /predict body scan against the exact path', () => {
  const model = makeLoadedModel(3);
  let exact: App;
  let fused: App;
  beforeAll(async () => {
    exact = await buildApp({ holder: createModelHolder(model), maxBatchSize: MAX_BATCH, fusedBodyScan: false });
    fused = await buildApp({ holder: createModelHolder(model), maxBatchSize: MAX_BATCH });
  });
  afterAll(async () => {
    await exact.close();
    await fused.close();
  });

  it('answers every body as the exact path does: same status, same error, same scores bit for bit', async () => {
    const next = bodies(20261201);
    const scan = createPredictBodyScan(MAX_BATCH);
    let read = 0;
    const statuses = new Map<number, number>();
    for (let i = 0; i < 4000; i++) {
      const text = next();
      // Invalid UTF-8 now and then: both must decode it the same way.
      const payload =
        i % 97 === 0
          ? Buffer.concat([Buffer.from(text.slice(0, 20)), Buffer.of(0xff, 0xc3), Buffer.from(text.slice(20))])
          : text;
      if (scan(payload.toString(), model) !== undefined) read++;
      const [a, b] = await Promise.all([
        exact.inject(predictRequest(payload as string)),
        fused.inject(predictRequest(payload as string)),
      ]);
      statuses.set(a.statusCode, (statuses.get(a.statusCode) ?? 0) + 1);
      expect({ status: b.statusCode, body: b.body }, `body #${i}: ${text.slice(0, 300)}`).toEqual({
        status: a.statusCode,
        body: a.body,
      });
    }
    // Both paths must be exercised, or the comparison proves nothing.
    expect(read).toBeGreaterThan(1500);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(read + 200);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(400);
  });

  it('reads the common shape itself, and leaves what it does not read exactly to the exact path', () => {
    const scan = createPredictBodyScan(MAX_BATCH);
    const read = (text: string) => scan(text, model) !== undefined;
    expect(
      read(
        '{"impressions":[{"id":"a","os":"ios","context":{"hour_of_day":3,"page_views":-0,"x":1.5e3,"y":true,"z":null}}]}',
      ),
    ).toBe(true);
    expect(read(' { "impressions" : [ { } , {"context":{}} ] } ')).toBe(true);
    for (const odd of [
      '{"impressions":[]}',
      '{"impressions":[{"os":"i\\u006fs"}]}',
      '{"impressions":[{"os":"iOS é"}]}',
      '{"impressions":[{"os":"a","os":"b"}]}',
      '{"impressions":[{"context":{"hour_of_day":1,"hour_of_day":2}}]}',
      '{"impressions":[{"extra":"x"}]}',
      '{"impressions":[{"context":{"a":[1]}}]}',
      '{"impressions":[{"context":{"a":01}}]}',
      '{"impressions":[{"os":1}]}',
      '{"impressions":[{}],"more":1}',
      '{"impressions":[{}]}x',
      // A key the previous impression had at the same place, then one it begins, then a cut-off one.
      '{"impressions":[{"os":"a","ad_id":"b"},{"os":"a","ad_idx":"b"}]}',
      '{"impressions":[{"os":"a"},{"os',
      `{"impressions":[${Array.from({ length: MAX_BATCH + 1 }, () => '{}').join(',')}]}`,
    ]) {
      expect(read(odd), odd).toBe(false);
    }
  });
});
