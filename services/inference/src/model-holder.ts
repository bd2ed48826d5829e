import type { ModelArtifact, Scorer } from '@fallback-ctr/model';

/** The model this process serves: fixed once loaded, for the life of the process. */
export interface LoadedModel {
  name: string;
  version: string;
  /** "alias:champion" when resolved through an alias, "pinned" when MODEL_VERSION was set. */
  resolvedFrom: string;
  runId: string;
  /** Model-version tags from the registry (gate.outcome, artifact.sha256, holdout.<metric>, ...). */
  tags: Readonly<Record<string, string>>;
  loadedAt: Date;
  artifact: ModelArtifact;
  scorer: Scorer;
}

/**
 * What the HTTP layer needs to know about serving state: the model (absent until loaded) and
 * whether the process is draining. A model is set once; a pod never swaps models while running.
 */
export interface ModelHolder {
  get(): LoadedModel | undefined;
  set(model: LoadedModel): void;
  readonly draining: boolean;
  startDraining(): void;
  /** Calls `listener` once the model is set (at once if it already is). */
  onLoad(listener: (model: LoadedModel) => void): void;
}

export function createModelHolder(initial?: LoadedModel): ModelHolder {
  let model = initial;
  let draining = false;
  const listeners: ((model: LoadedModel) => void)[] = [];
  return {
    get: () => model,
    set(next) {
      if (model) throw new Error(`model already loaded (${model.name} v${model.version}); a server never swaps models`);
      model = next;
      for (const listener of listeners.splice(0)) listener(next);
    },
    onLoad(listener) {
      if (model) listener(model);
      else listeners.push(listener);
    },
    get draining() {
      return draining;
    },
    startDraining() {
      draining = true;
    },
  };
}
