/** Turns one source value into epoch milliseconds, or a reason why it cannot. */
export type TimestampParser = (value: unknown) => number | string;

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;

const PATTERN_TOKENS = { YYYY: 4, YY: 2, MM: 2, DD: 2, HH: 2, mm: 2, ss: 2, SSS: 3 } as const;
type PatternToken = keyof typeof PATTERN_TOKENS;

/**
 * Offset of an IANA time zone (ms to add to local wall time to get UTC), cached per hour of wall
 * time: Intl is slow, and an import touches the same few hours millions of times.
 */
function zoneOffsetResolver(timeZone: string): (wallMs: number) => number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return () => 0;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const wallOf = (utcMs: number): number => {
    const p: Record<string, number> = {};
    for (const part of format.formatToParts(utcMs)) p[part.type] = Number(part.value);
    return Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day, p.hour, p.minute, p.second);
  };
  const cache = new Map<number, number>();
  return (wallMs) => {
    const hour = Math.floor(wallMs / 3_600_000);
    let offset = cache.get(hour);
    if (offset === undefined) {
      // UTC = wall − (how far the zone is ahead); the second step settles DST edges.
      const ahead = (utcMs: number) => wallOf(utcMs) - utcMs;
      const first = wallMs - ahead(wallMs);
      offset = wallMs - ahead(first) - wallMs;
      if (cache.size > 100_000) cache.clear();
      cache.set(hour, offset);
    }
    return offset;
  };
}

/** Throws a RangeError naming the zone when Intl does not know it. */
export function assertTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}

function offsetMs(text: string): number {
  if (text === 'Z' || text === 'z' || text === 'UTC') return 0;
  const sign = text[0] === '-' ? -1 : 1;
  const digits = text.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * 60_000;
}

function compilePattern(pattern: string): { regex: RegExp; tokens: PatternToken[] } {
  const tokens: PatternToken[] = [];
  let source = '';
  let rest = pattern;
  while (rest.length > 0) {
    const token = (Object.keys(PATTERN_TOKENS) as PatternToken[]).find((t) => rest.startsWith(t));
    if (token) {
      tokens.push(token);
      source += `(\\d{${PATTERN_TOKENS[token]}})`;
      rest = rest.slice(token.length);
    } else {
      source += (rest[0] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      rest = rest.slice(1);
    }
  }
  if (!tokens.includes('YYYY') && !tokens.includes('YY')) throw new RangeError(`pattern "${pattern}" has no year`);
  return { regex: new RegExp(`^${source}$`), tokens };
}

/**
 * `iso`: `2024-05-01T12:00:00Z`, `2024-05-01 12:00:00.123456+02:00`, `2024-05-01` (a value without an
 * offset is wall time in `timeZone`); `unix-s` / `unix-ms`: epoch seconds / milliseconds (number or
 * digits); anything else is a pattern of YYYY YY MM DD HH mm ss SSS and literal characters, read as
 * wall time in `timeZone` (`YY` is 20YY). Date objects (Parquet timestamps) pass through.
 */
export function timestampParser(format: string, timeZone: string): TimestampParser {
  const parse = formatParser(format, timeZone);
  return (value) => {
    const ms = parse(value);
    if (typeof ms === 'number' && !(Math.abs(ms) <= MAX_DATE_MS))
      return `timestamp ${JSON.stringify(String(value))} is out of range`;
    return ms;
  };
}

const MAX_DATE_MS = 8.64e15;

function formatParser(format: string, timeZone: string): TimestampParser {
  assertTimeZone(timeZone);
  const zoneOffset = zoneOffsetResolver(timeZone);
  const fromWall = (wall: number) => wall + zoneOffset(wall);
  const common = (value: unknown): number | string | undefined => {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'invalid date' : value.getTime();
    if (value === null || value === undefined || value === '') return 'timestamp is empty';
    return undefined;
  };
  if (format === 'unix-s' || format === 'unix-ms') {
    const scale = format === 'unix-s' ? 1000 : 1;
    return (value) => {
      const early = common(value);
      if (early !== undefined) return early;
      const n = typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? value : Number(value);
      if (!Number.isFinite(n)) return `timestamp ${JSON.stringify(String(value))} is not a number (format ${format})`;
      return Math.round(n * scale);
    };
  }
  if (format === 'iso') {
    return (value) => {
      const early = common(value);
      if (early !== undefined) return early;
      const m = ISO.exec(String(value));
      if (!m) return `timestamp ${JSON.stringify(String(value))} is not ISO 8601 (format iso)`;
      const fraction = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
      const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), fraction);
      if (Number.isNaN(wall) || +m[2]! > 12 || +m[3]! > 31)
        return `timestamp ${JSON.stringify(String(value))} is not a date`;
      return m[8] === undefined ? fromWall(wall) : wall - offsetMs(m[8]);
    };
  }
  const { regex, tokens } = compilePattern(format);
  return (value) => {
    const early = common(value);
    if (early !== undefined) return early;
    const m = regex.exec(String(value));
    if (!m) return `timestamp ${JSON.stringify(String(value))} does not match the pattern ${format}`;
    const f: Partial<Record<PatternToken, number>> = {};
    tokens.forEach((t, i) => {
      f[t] = Number(m[i + 1]);
    });
    const year = f.YYYY ?? 2000 + (f.YY ?? 0);
    const month = f.MM ?? 1;
    const day = f.DD ?? 1;
    if (month < 1 || month > 12 || day < 1 || day > 31) {
      return `timestamp ${JSON.stringify(String(value))} is not a date (pattern ${format})`;
    }
    return fromWall(Date.UTC(year, month - 1, day, f.HH ?? 0, f.mm ?? 0, f.ss ?? 0, f.SSS ?? 0));
  };
}
