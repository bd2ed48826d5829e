import { readFileSync } from 'node:fs';

/** One Dockerfile instruction, continuation lines joined and comments dropped. */
export interface Instruction {
  keyword: string;
  /** Everything after the keyword, as written (whitespace-collapsed across continuations). */
  args: string;
  line: number;
}

export interface Stage {
  /** The FROM image. */
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Parses a Dockerfile (default escape character `\`) into stages of instructions. */
export function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  let current: { parts: string[]; line: number } | undefined;
  lines.forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && current === undefined)) return;
    if (trimmed === '') return; // an empty line inside a continuation is skipped by the builder
    const continues = trimmed.endsWith('\\');
    const part = continues ? trimmed.slice(0, -1).trim() : trimmed;
    if (!current) current = { parts: [], line: i + 1 };
    current.parts.push(part);
    if (!continues) {
      const joined = current.parts.join(' ');
      const match = /^(\S+)\s*(.*)$/.exec(joined);
      instructions.push({ keyword: (match?.[1] ?? '').toUpperCase(), args: match?.[2] ?? '', line: current.line });
      current = undefined;
    }
  });
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ image: words[0] ?? '', name: as >= 0 ? words[as + 1] : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1]?.instructions.push(instruction);
    } else if (instruction.keyword !== 'ARG') {
      throw new Error(`line ${instruction.line}: ${instruction.keyword} before the first FROM`);
    }
  }
  return stages;
}

export function readDockerfile(path: string): Stage[] {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

/** The exec (JSON) form of CMD/ENTRYPOINT/HEALTHCHECK CMD arguments, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.trim().startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) return undefined;
  return parsed;
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  destination: string;
  line: number;
}

/** COPY instructions of a stage: --from flag, sources and destination (shell form only). */
export function copies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const flags = words.filter((w) => w.startsWith('--'));
      const paths = words.filter((w) => !w.startsWith('--'));
      const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
      return { from, sources: paths.slice(0, -1), destination: paths[paths.length - 1] ?? '', line: i.line };
    });
}

/** The arguments of every `npm ci` in a stage's RUN instructions. */
export function npmCiCommands(stage: Stage): string[][] {
  const out: string[][] = [];
  for (const run of stage.instructions.filter((i) => i.keyword === 'RUN')) {
    for (const command of run.args.split(/&&|;/)) {
      const words = command.trim().split(/\s+/);
      if (words[0] === 'npm' && words[1] === 'ci') out.push(words.slice(2));
    }
  }
  return out;
}

/** Values of every `-w`/`--workspace` flag in npm arguments. */
export function workspaceFlags(args: readonly string[]): string[] {
  const out: string[] = [];
  args.forEach((arg, i) => {
    if (arg === '-w' || arg === '--workspace') out.push(args[i + 1] ?? '');
    else if (arg.startsWith('--workspace=')) out.push(arg.slice('--workspace='.length));
  });
  return out;
}

/**
 * A .dockerignore matcher with Docker's rules: patterns relative to the context root, `*` and
 * `?` within one path segment, `**` across segments, `!` re-includes, the last matching line wins,
 * and a path is excluded when it or one of its parent directories is.
 */
export function dockerignoreMatcher(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i] ?? '';
        if (pattern.startsWith('**/', i)) {
          re += '(?:.*/)?';
          i += 2;
        } else if (pattern.startsWith('**', i)) {
          re += '.*';
          i += 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, regex: new RegExp(`^${re}$`) };
    });
  const matches = (path: string): boolean => {
    let excluded = false;
    for (const rule of rules) if (rule.regex.test(path)) excluded = !rule.negate;
    return excluded;
  };
  return (path) => {
    const segments = path
      .replace(/^\.\/+/, '')
      .replace(/\/+$/, '')
      .split('/');
    for (let n = 1; n <= segments.length; n++) if (matches(segments.slice(0, n).join('/'))) return true;
    return false;
  };
}
