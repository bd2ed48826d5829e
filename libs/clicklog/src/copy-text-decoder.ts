import { StringDecoder } from 'node:string_decoder';

/** COPY text: newline-terminated lines, as strings or as UTF-8 bytes holding whole lines. */
export type CopyText = string | Buffer;

/** The NULL marker of PostgreSQL's COPY text format. */
export const COPY_NULL = '\\N';

const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/**
 * Decodes one COPY text field: `\N` is null; backslash escapes (`\\`, `\t`, `\n`, …, `\NNN` octal,
 * `\xHH` hex) are undone. Fields without a backslash (almost all) come back as they are.
 */
export function decodeCopyField(field: string): string | null {
  if (field === COPY_NULL) return null;
  if (field.indexOf('\\') === -1) return field;
  let out = '';
  let i = 0;
  while (i < field.length) {
    const slash = field.indexOf('\\', i);
    if (slash === -1 || slash === field.length - 1) {
      out += field.slice(i);
      break;
    }
    out += field.slice(i, slash);
    const next = field[slash + 1] as string;
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
      i = slash + 2;
    } else if (next >= '0' && next <= '7') {
      const octal = /^[0-7]{1,3}/.exec(field.slice(slash + 1, slash + 4))![0];
      out += String.fromCharCode(Number.parseInt(octal, 8));
      i = slash + 1 + octal.length;
    } else if (next === 'x' && /^[0-9a-fA-F]/.test(field[slash + 2] ?? '')) {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(field.slice(slash + 2, slash + 4))![0];
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i = slash + 2 + hex.length;
    } else {
      out += next;
      i = slash + 2;
    }
  }
  return out;
}

/**
 * Splits the byte stream of `COPY … TO STDOUT` (text format) into lines. Chunks arrive cut anywhere,
 * also inside a multi-byte character; the decoder keeps the partial line (and character) for the
 * next chunk. Each chunk is decoded to a string once; lines are slices of it.
 */
export class CopyTextLineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  /** Calls `onLine` for every complete line in `chunk` (without its newline). */
  push(chunk: Buffer, onLine: (line: string) => void): void {
    const text = this.pending + this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      onLine(text.slice(start, nl));
      start = nl + 1;
    }
    this.pending = start === 0 ? text : text.slice(start);
  }

  /** Bytes or characters left without a closing newline (a well-formed COPY stream leaves none). */
  end(): string {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    return rest;
  }
}

/** Splits one line into its fields (tab-separated). `into` is reused to avoid an array per row. */
export function splitCopyTextFields(line: string, into: string[]): number {
  let n = 0;
  let start = 0;
  for (let tab = line.indexOf('\t'); tab !== -1; tab = line.indexOf('\t', start)) {
    into[n++] = line.slice(start, tab);
    start = tab + 1;
  }
  into[n++] = line.slice(start);
  return n;
}

/** A SQL literal for a timestamp, for statements such as COPY that take no bind parameters. */
export function timestampLiteral(instant: Date): string {
  const iso = instant.toISOString();
  return `'${iso}'::timestamptz`;
}
