import { describe, expect, it } from 'vitest';
import { checkRelativePath, proxyPathOf, proxyUrlPath } from '../src/artifact-uri.js';
import { artifactProxyPath, MlflowError, MlflowErrorCode } from '../src/index.js';

describe('artifact URIs', () => {
  it('maps mlflow-artifacts URIs to proxy paths', () => {
    expect(artifactProxyPath('mlflow-artifacts:/2/abc/artifacts')).toBe('2/abc/artifacts');
    expect(artifactProxyPath('mlflow-artifacts:/2/abc/artifacts/')).toBe('2/abc/artifacts');
    expect(artifactProxyPath('mlflow-artifacts://mlflow:5000/2/abc/artifacts')).toBe('2/abc/artifacts');
    expect(proxyPathOf('mlflow-artifacts:/2/abc/artifacts', 'model/model.json')).toBe(
      '2/abc/artifacts/model/model.json',
    );
    expect(proxyPathOf('mlflow-artifacts:/2/abc/artifacts')).toBe('2/abc/artifacts');
    expect(proxyUrlPath('2/a b/c#d')).toBe('/api/2.0/mlflow-artifacts/artifacts/2/a%20b/c%23d');
  });

  it('rejects URIs of other stores with an error saying what to do', () => {
    for (const uri of ['s3://bucket/2/abc/artifacts', '/var/mlruns/2/abc/artifacts', 'file:///tmp/x', 'gs://b/x']) {
      try {
        artifactProxyPath(uri);
        throw new Error(`accepted ${uri}`);
      } catch (error) {
        expect(error).toBeInstanceOf(MlflowError);
        expect((error as MlflowError).code).toBe(MlflowErrorCode.UNSUPPORTED_ARTIFACT_URI);
        expect((error as MlflowError).message).toContain(uri);
        expect((error as MlflowError).message).toMatch(/--serve-artifacts/);
      }
    }
  });

  it('rejects relative paths that escape or are not normalised', () => {
    expect(checkRelativePath('model/model.json')).toBe('model/model.json');
    expect(checkRelativePath('')).toBe('');
    for (const bad of ['../x', 'a/../../b', '/etc/passwd', 'a//b', 'a/./b', 'a\\b']) {
      expect(() => checkRelativePath(bad)).toThrow(MlflowError);
    }
  });
});
