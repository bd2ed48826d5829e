import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request, decided from its method and path. */
export type ProxyAction =
  | { kind: 'pass' }
  /** Forwards to the real server, waits for its answer, then cuts the client's connection. */
  | { kind: 'drop-response' }
  /** Forwards and rewrites the JSON answer. */
  | { kind: 'rewrite'; rewrite: (body: unknown) => unknown }
  /** Accepts the request and never answers. */
  | { kind: 'hang' }
  /** Reads the request, then cuts the connection without forwarding: the client cannot tell whether the server acted. */
  | { kind: 'reset' }
  /** Cuts this request and every open connection and stops listening: the server went away mid-work. */
  | { kind: 'stop' };

export interface FaultProxy {
  url: string;
  /** Requests seen, as "METHOD /path". */
  seen: string[];
  /** True once a `stop` action has stopped the proxy. */
  readonly stopped: boolean;
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of the real MLflow server that injects one fault at a time: the
 * real server still does the work, only the answer the client gets is altered.
 */
export async function startFaultProxy(
  target: string,
  decide: (method: string, path: string) => ProxyAction,
  options: { hostHeader?: string } = {},
): Promise<FaultProxy> {
  const upstream = new URL(target);
  const seen: string[] = [];
  const hanging = new Set<IncomingMessage>();
  let stopped = false;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    seen.push(`${req.method} ${path}`);
    const action: ProxyAction = stopped ? { kind: 'reset' } : decide(req.method ?? 'GET', path);
    if (action.kind === 'stop') {
      stopped = true;
      req.socket.destroy();
      server.close();
      server.closeAllConnections();
      return;
    }
    if (action.kind === 'hang') {
      hanging.add(req);
      return;
    }
    if (action.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    const forward = httpRequest(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: options.hostHeader ?? upstream.host },
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          if (action.kind === 'drop-response') {
            req.socket.destroy();
            return;
          }
          let body = Buffer.concat(chunks);
          if (action.kind === 'rewrite')
            body = Buffer.from(JSON.stringify(action.rewrite(JSON.parse(body.toString()))));
          const headers = { ...answer.headers, 'content-length': String(body.length) };
          delete headers['transfer-encoding'];
          res.writeHead(answer.statusCode ?? 502, headers);
          res.end(body);
        });
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    get stopped() {
      return stopped;
    },
    async close() {
      for (const req of hanging) req.socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
