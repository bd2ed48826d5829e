import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { KINDS, type KindKey, kindDeclaration } from './k8s-kinds.js';

/**
 * kubernetes-models validates types and required fields but lets unknown fields through (the API
 * server drops them silently, so a misspelt `replicaz` would deploy as "no replicas field"). This
 * check walks each object against the field declarations that kubernetes-models ships for the
 * API types (its .d.ts files, read with the TypeScript compiler) and reports every key that the
 * type does not declare.
 */
export interface StrictFieldChecker {
  /** Paths like `spec.template.spec.containers[0].readinessProbe.httpGett`; empty = all known. */
  unknownFields(kind: KindKey, object: unknown): string[];
}

const require = createRequire(import.meta.url);
const VIRTUAL = join(dirname(require.resolve('kubernetes-models/package.json')), '__fctr_roots__.ts');

export function createStrictFieldChecker(): StrictFieldChecker {
  const keys = Object.keys(KINDS) as KindKey[];
  const source = [
    ...keys.map((key, i) => {
      const { module, type } = kindDeclaration(key);
      return `import type { ${type} as T${i} } from '${module}';`;
    }),
    'export interface Roots {',
    ...keys.map((key, i) => `  ${JSON.stringify(key)}: T${i};`),
    '}',
  ].join('\n');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    // The smallest default library: the declarations need Array and little else (no DOM).
    lib: ['lib.es5.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) =>
    fileName === VIRTUAL
      ? ts.createSourceFile(fileName, source, languageVersion)
      : getSourceFile(fileName, languageVersion, onError, shouldCreate);
  host.fileExists = (fileName) => fileName === VIRTUAL || fileExists(fileName);
  host.readFile = (fileName) => (fileName === VIRTUAL ? source : readFile(fileName));
  const program = ts.createProgram({ rootNames: [VIRTUAL], options, host });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    throw new Error(
      `cannot read the kubernetes-models type declarations:\n${ts.formatDiagnostics(diagnostics, {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => process.cwd(),
        getNewLine: () => '\n',
      })}`,
    );
  }
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(VIRTUAL);
  const roots = file?.statements.find(ts.isInterfaceDeclaration);
  if (!roots) throw new Error('internal: the Roots interface is missing');
  const rootsType = checker.getTypeAtLocation(roots);

  /** The object-like members of a (possibly optional / union) type. */
  const objectParts = (type: ts.Type): ts.Type[] => {
    const parts = type.isUnion() ? type.types : [type];
    return parts.filter((t) => (t.flags & ts.TypeFlags.Object) !== 0 || t.isIntersection());
  };

  const walk = (value: unknown, type: ts.Type, path: string, out: string[]): void => {
    if (value === null || typeof value !== 'object') return;
    const parts = objectParts(checker.getNonNullableType(type));
    if (parts.length === 0) return; // a primitive-typed field holding an object: left to the schema validator
    if (Array.isArray(value)) {
      const arrayType = parts.find((t) => checker.isArrayType(t) || checker.isTupleType(t));
      if (!arrayType) return;
      const element = checker.getTypeArguments(arrayType as ts.TypeReference)[0];
      if (!element) return;
      value.forEach((item, i) => {
        walk(item, element, `${path}[${i}]`, out);
      });
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = path === '' ? key : `${path}.${key}`;
      let childType: ts.Type | undefined;
      for (const part of parts) {
        const property = part.getProperty(key);
        if (property) {
          childType = checker.getTypeOfSymbol(property);
          break;
        }
        const index = checker.getIndexInfoOfType(part, ts.IndexKind.String);
        if (index) {
          childType = index.type;
          break;
        }
      }
      if (!childType) {
        out.push(childPath);
        continue;
      }
      walk(child, childType, childPath, out);
    }
  };

  return {
    unknownFields(kind, object) {
      const property = rootsType.getProperty(kind);
      if (!property) throw new Error(`no field declarations for ${kind}`);
      const out: string[] = [];
      walk(object, checker.getTypeOfSymbol(property), '', out);
      return out;
    },
  };
}
