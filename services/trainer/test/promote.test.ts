import { silentLogger } from '@fallback-ctr/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promoteVersion, readAliases, restoreAliases } from '../src/pipeline/promote.js';
import { cleanUp, mlflowClient, registerVersions, uniqueSuffix } from './support/e2e.js';

const mlflow = mlflowClient();
const modelName = `trainer-promote-${uniqueSuffix()}`;
const logger = silentLogger();

describe('alias moves on the real MLflow registry', () => {
  beforeAll(async () => {
    await registerVersions(mlflow, modelName, 3);
  });
  afterAll(() => cleanUp(modelName, []));

  it('promotes, keeps the replaced version as previous-champion, and restores exactly', async () => {
    expect(await readAliases(mlflow, modelName)).toEqual({ champion: null, previousChampion: null });
    expect(await promoteVersion(mlflow, modelName, '1', logger)).toEqual({ champion: null, previousChampion: null });
    expect(await readAliases(mlflow, modelName)).toEqual({ champion: '1', previousChampion: null });

    const beforeTwo = await promoteVersion(mlflow, modelName, '2', logger);
    expect(beforeTwo).toEqual({ champion: '1', previousChampion: null });
    expect(await readAliases(mlflow, modelName)).toEqual({ champion: '2', previousChampion: '1' });

    const beforeThree = await promoteVersion(mlflow, modelName, '3', logger);
    expect(await readAliases(mlflow, modelName)).toEqual({ champion: '3', previousChampion: '2' });
    await restoreAliases(mlflow, modelName, beforeThree, logger);
    expect(await readAliases(mlflow, modelName)).toEqual({ champion: '2', previousChampion: '1' });

    await restoreAliases(mlflow, modelName, beforeTwo, logger);
    expect(await readAliases(mlflow, modelName)).toEqual({ champion: '1', previousChampion: null });
    await restoreAliases(mlflow, modelName, { champion: null, previousChampion: null }, logger);
    expect(await readAliases(mlflow, modelName)).toEqual({ champion: null, previousChampion: null });
  });
});
