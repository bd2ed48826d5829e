import { RawImpressionSchema as ClicklogRawImpression, IMPRESSION_COLUMNS } from '@fallback-ctr/clicklog';
import { RawImpressionSchema as ModelRawImpression, RAW_COLUMNS } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

// libs/clicklog may not import libs/model (dependency rule), so it keeps its own copy of the
// raw-impression shape. The trainer sees both: it is where a drift between them would bite.
describe('the raw-impression contract shared by the click logs and the model', () => {
  it('has the same columns in libs/clicklog and libs/model', () => {
    expect([...IMPRESSION_COLUMNS]).toEqual([...RAW_COLUMNS]);
  });

  it('is the same schema in libs/clicklog and libs/model', () => {
    expect(z.toJSONSchema(ClicklogRawImpression)).toEqual(z.toJSONSchema(ModelRawImpression));
  });
});
