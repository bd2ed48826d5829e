import { readFileSync } from 'node:fs';
import { InferenceEnvSchema } from '@fallback-ctr/inference';
import { MlflowEnvSchema } from '@fallback-ctr/mlflow';
import { AnalyzeEnvSchema, MonitorEnvSchema, TrainerEnvSchema } from '@fallback-ctr/trainer';
import { describe, expect, it } from 'vitest';
import {
  cliReadmeSection,
  readmeSection,
  renderCliReference,
  renderConfigReference,
} from '../scripts/config-reference.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const trainerReadme = readFileSync(new URL('../services/trainer/README.md', import.meta.url), 'utf8');

describe('README configuration reference', () => {
  it('is exactly what the zod schemas render (regenerate with scripts/config-reference.ts --write)', () => {
    expect(readmeSection(readme)).toBe(renderConfigReference());
  });

  it('names every variable the trainer, its analysis and monitor, and the inference API read', () => {
    const section = readmeSection(readme) ?? '';
    for (const name of [
      ...Object.keys(TrainerEnvSchema.shape),
      ...Object.keys(AnalyzeEnvSchema.shape),
      ...Object.keys(MonitorEnvSchema.shape),
      ...Object.keys(InferenceEnvSchema.shape),
      ...Object.keys(MlflowEnvSchema.shape),
    ]) {
      expect(section).toContain(`| \`${name}\` |`);
    }
  });
});

describe('trainer README command table', () => {
  it('is exactly what the CLI declares (regenerate with scripts/config-reference.ts --write)', () => {
    expect(cliReadmeSection(trainerReadme)).toBe(renderCliReference());
  });
});
