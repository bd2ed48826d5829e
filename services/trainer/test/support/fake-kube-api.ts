import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** One Deployment status the stand-in plays back, computed from the Deployment's current generation. */
export type ScriptedStatus = (generation: number, replicas: number) => Record<string, unknown>;

export const statuses = {
  /** The controller has not yet seen the new template. */
  notObserved: (): ScriptedStatus => (g, r) => ({
    observedGeneration: g - 1,
    replicas: r,
    updatedReplicas: r,
    availableReplicas: r,
  }),
  /** New pods are coming up: `updated` of them so far, old ones still there. */
  progressing:
    (updated: number): ScriptedStatus =>
    (g, r) => ({
      observedGeneration: g,
      replicas: r + 1,
      updatedReplicas: updated,
      availableReplicas: r,
      conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }],
    }),
  complete: (): ScriptedStatus => (g, r) => ({
    observedGeneration: g,
    replicas: r,
    updatedReplicas: r,
    availableReplicas: r,
    readyReplicas: r,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
    ],
  }),
  deadlineExceeded: (): ScriptedStatus => (g, r) => ({
    observedGeneration: g,
    replicas: r + 1,
    updatedReplicas: 1,
    availableReplicas: r,
    conditions: [
      {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: `ReplicaSet "inference-abc" has timed out progressing.`,
      },
    ],
  }),
};

export interface RecordedPatch {
  contentType: string | undefined;
  body: unknown;
  path: string;
}

export interface FakeKubeApi {
  url: string;
  /** A KubeConfig whose only cluster is this stand-in (plain HTTP, token auth). */
  kubeConfig(): KubeConfig;
  patches: RecordedPatch[];
  /** Count of GETs on the Deployment. */
  reads: number;
  /** Statuses to play back after the next patches: one list per patch, consumed in order. */
  scriptRollouts(...scripts: ScriptedStatus[][]): void;
  /** Pod-template annotations as they stand now. */
  annotations(): Record<string, string>;
  /** Makes every request answer with this HTTP status (e.g. 503) until cleared with null. */
  failWith(status: number | null): void;
  close(): Promise<void>;
}

interface DeploymentState {
  generation: number;
  replicas: number;
  annotations: Record<string, string>;
  script: ScriptedStatus[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Kept only for injected API errors (failWith) and scripted statuses for pure-logic checks: every
 * other Kubernetes behaviour is tested against the real API server of scripts/cluster.sh
 * (*.cluster.test.ts), which cannot be made to fail on demand.
 *
 * An in-process stand-in for the Kubernetes API server, serving one Deployment: GET and PATCH on
 * /apis/apps/v1/namespaces/<ns>/deployments/<name>. It records every PATCH (path, content type,
 * body), applies pod-template annotations from a strategic-merge patch, bumps the generation when
 * the template changes, and plays back scripted statuses on the following reads.
 */
export async function startFakeKubeApi(options: {
  namespace: string;
  deployment: string;
  replicas?: number;
  annotations?: Record<string, string>;
}): Promise<FakeKubeApi> {
  const state: DeploymentState = {
    generation: 1,
    replicas: options.replicas ?? 3,
    annotations: { ...options.annotations },
    script: [statuses.complete()],
  };
  const pendingScripts: ScriptedStatus[][] = [];
  const patches: RecordedPatch[] = [];
  let failStatus: number | null = null;
  let reads = 0;
  const resourcePath = `/apis/apps/v1/namespaces/${options.namespace}/deployments/${options.deployment}`;

  // Each GET plays the next scripted status (the last one repeats); a PATCH response only peeks.
  const deploymentObject = (consume: boolean) => {
    const step = consume && state.script.length > 1 ? state.script.shift()! : state.script[0]!;
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: options.deployment, namespace: options.namespace, generation: state.generation },
      spec: {
        replicas: state.replicas,
        selector: { matchLabels: { app: 'inference' } },
        template: {
          metadata: { labels: { app: 'inference' }, annotations: { ...state.annotations } },
          spec: { containers: [{ name: 'inference', image: 'inference:test' }] },
        },
      },
      status: step(state.generation, state.replicas),
    };
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const statusBody = (code: number, reason: string, message: string) => ({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason,
    message,
    code,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '').split('?')[0];
    if (failStatus !== null) return send(res, failStatus, statusBody(failStatus, 'ServiceUnavailable', 'injected'));
    if (path !== resourcePath) return send(res, 404, statusBody(404, 'NotFound', `no route for ${path}`));
    if (req.method === 'GET') {
      reads++;
      return send(res, 200, deploymentObject(true));
    }
    if (req.method === 'PATCH') {
      const contentType = req.headers['content-type'];
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, 400, statusBody(400, 'BadRequest', 'body is not JSON'));
      }
      patches.push({ contentType, body, path });
      if (contentType !== 'application/strategic-merge-patch+json') {
        return send(res, 415, statusBody(415, 'UnsupportedMediaType', `unsupported patch type ${contentType}`));
      }
      const spec = isRecord(body) && isRecord(body.spec) ? body.spec : undefined;
      const template = spec && isRecord(spec.template) ? spec.template : undefined;
      const metadata = template && isRecord(template.metadata) ? template.metadata : undefined;
      const annotations = metadata && isRecord(metadata.annotations) ? metadata.annotations : {};
      const before = JSON.stringify(state.annotations);
      for (const [k, v] of Object.entries(annotations)) {
        if (v === null) delete state.annotations[k];
        else state.annotations[k] = String(v);
      }
      if (JSON.stringify(state.annotations) !== before) {
        state.generation++;
        state.script = pendingScripts.shift() ?? [statuses.complete()];
      }
      return send(res, 200, deploymentObject(false));
    }
    return send(res, 405, statusBody(405, 'MethodNotAllowed', `${req.method} not supported`));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, statusBody(500, 'InternalError', String(error))));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'trainer', token: 'test-token' }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'trainer', namespace: options.namespace }],
        currentContext: 'fake',
      });
      return kc;
    },
    patches,
    get reads() {
      return reads;
    },
    scriptRollouts(...scripts) {
      pendingScripts.push(...scripts);
    },
    annotations: () => ({ ...state.annotations }),
    failWith(status) {
      failStatus = status;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
