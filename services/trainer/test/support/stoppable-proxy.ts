import { once } from 'node:events';
import { createServer, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoppableProxy {
  url: string;
  /** Paths (without query) of every request seen, in order. */
  seen: string[];
  /** True once the proxy has stopped. */
  readonly stopped: boolean;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of the real MLflow. When `stopWhen` matches a request, that
 * request is cut and the proxy stops listening: from the trainer's side MLflow went away in the
 * middle of whatever it was doing. The real MLflow keeps running for everyone else.
 */
export async function startStoppableProxy(
  target: string,
  stopWhen: (req: IncomingMessage) => boolean,
): Promise<StoppableProxy> {
  const upstream = new URL(target);
  const seen: string[] = [];
  let stopped = false;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    seen.push(`${req.method} ${path}`);
    if (stopped || stopWhen(req)) {
      stopped = true;
      req.socket.destroy();
      server.close();
      server.closeAllConnections();
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    get stopped() {
      return stopped;
    },
    async close() {
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
