import { describe, expect, it } from 'vitest';
import { copyText } from '../src/copy-text.js';
import { CopyTextLineSplitter, decodeCopyField, splitCopyTextFields } from '../src/copy-text-decoder.js';

describe('decodeCopyField', () => {
  it('reverses the COPY text escapes', () => {
    expect(decodeCopyField('\\N')).toBeNull();
    expect(decodeCopyField('plain')).toBe('plain');
    expect(decodeCopyField('a\\tb\\nc\\\\d\\re')).toBe('a\tb\nc\\d\re');
    expect(decodeCopyField('\\b\\f\\v')).toBe('\b\f\v');
    expect(decodeCopyField('octal \\101\\0 hex \\x41\\x4')).toBe('octal A\u0000 hex A\u0004');
    expect(decodeCopyField('other \\q')).toBe('other q');
  });

  it('is the inverse of the encoder for any string', () => {
    for (const value of ['', 'tab\there', 'back\\slash', 'new\nline\r', 'ünïcødé "q" {\\"json\\"}', '\\N as text']) {
      expect(decodeCopyField(copyText(value))).toBe(value);
    }
  });
});

describe('CopyTextLineSplitter', () => {
  it('gives whole lines whatever the chunk boundaries, also inside a multi-byte character', () => {
    const text = 'ä\tb\n€\t\\N\nlast\t😀\n';
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 1; cut < bytes.length; cut++) {
      const splitter = new CopyTextLineSplitter();
      const lines: string[] = [];
      splitter.push(bytes.subarray(0, cut), (l) => lines.push(l));
      splitter.push(bytes.subarray(cut), (l) => lines.push(l));
      expect(lines).toEqual(['ä\tb', '€\t\\N', 'last\t😀']);
      expect(splitter.end()).toBe('');
    }
  });

  it('keeps an unterminated tail for end()', () => {
    const splitter = new CopyTextLineSplitter();
    const lines: string[] = [];
    splitter.push(Buffer.from('a\nb'), (l) => lines.push(l));
    expect(lines).toEqual(['a']);
    expect(splitter.end()).toBe('b');
  });
});

describe('splitCopyTextFields', () => {
  it('splits on tabs into a reused array and returns the count', () => {
    const into: string[] = [];
    expect(splitCopyTextFields('a\t\tc', into)).toBe(3);
    expect(into.slice(0, 3)).toEqual(['a', '', 'c']);
    expect(splitCopyTextFields('single', into)).toBe(1);
    expect(into[0]).toBe('single');
  });
});
