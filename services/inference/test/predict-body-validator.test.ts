import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { compilePredictBodyValidator } from '../src/predict-body-validator.js';
import { MAX_ISSUES } from '../src/predict-limits.js';
import { jsonSchema, PredictImpressionSchema, predictRequestSchema } from '../src/predict-schemas.js';

describe('the POST /predict body validator', () => {
  const validate = compilePredictBodyValidator(1000);

  it('accepts a valid body and leaves no errors behind', () => {
    expect(validate({ impressions: [{ id: 'a', os: 'ios', context: { hour_of_day: 3, x: null, y: true } }] })).toBe(
      true,
    );
    expect(validate.errors).toBeNull();
  });

  it('refuses a batch over the limit on its length alone, whatever its items hold', () => {
    // 400,000 wrong items: the validator that found every fault used to return 400,000 errors.
    expect(validate({ impressions: Array.from({ length: 400_000 }, () => 1) })).toBe(false);
    expect(validate.errors).toHaveLength(1);
    expect(validate.errors?.[0]).toMatchObject({ instancePath: '/impressions', keyword: 'maxItems' });
  });

  it('stops collecting faults soon after MAX_ISSUES', () => {
    const context = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, [i]]));
    const impressions = Array.from({ length: 1000 }, () => ({ os: 1, device_type: 2, context }));
    expect(validate({ impressions })).toBe(false);
    const errors = validate.errors ?? [];
    expect(errors.length).toBeGreaterThan(MAX_ISSUES);
    // One impression's faults at most beyond the cap: 64 context values, ≤ 5 errors each (one per
    // type of the union and the union itself), plus the columns. The limits bound an impression.
    expect(errors.length).toBeLessThan(MAX_ISSUES + 5 * (64 + 10));
    expect(errors.every((e) => e.instancePath.startsWith('/impressions/0/'))).toBe(true);
  });

  it('names every wrong field of a small body, in several impressions', () => {
    expect(validate({ impressions: [{ slot_id: 5 }, {}, { id: 7, context: { a: { b: 1 } } }, 'x'] })).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/impressions/0/slot_id',
        '/impressions/2/id',
        '/impressions/2/context/a',
        '/impressions/3',
      ]),
    );
  });

  it('accepts exactly what the schema accepts, for every known field and context value of every JSON type', () => {
    // A valid body is accepted without Ajv: this holds the one-pass check to the schema's verdicts.
    const schema = new Ajv({ allowUnionTypes: true, strict: false }).compile(
      jsonSchema(predictRequestSchema(1000), 'input'),
    );
    const fields = Object.keys(jsonSchema(PredictImpressionSchema, 'input').properties as Record<string, unknown>);
    expect(fields).toEqual(expect.arrayContaining(['id', 'slot_id', 'country', 'context']));
    const values: unknown[] = ['x', '', 0, -1.5, Number.POSITIVE_INFINITY, true, false, null, {}, { a: 1 }, [], ['x']];
    const impressions: unknown[] = [
      ...values,
      ...fields.flatMap((field) => values.map((value) => ({ [field]: value }))),
      ...values.map((value) => ({ context: { k: value } })),
      ...values.map((value) => ({ unknown: value, context: { a: 1, b: 'x', c: value } })),
    ];
    let accepted = 0;
    for (const impression of impressions) {
      for (const body of [{ impressions: [impression] }, { impressions: [{ id: 'ok' }, impression] }]) {
        const expected = schema(body);
        expect({ body, valid: validate(body) }).toEqual({ body, valid: expected });
        if (expected) accepted++;
      }
    }
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(2 * impressions.length);
  });
});
