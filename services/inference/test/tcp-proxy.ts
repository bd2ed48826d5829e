import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../../scripts/demo/free-port.js';

export { freePort };

/** A loopback TCP proxy to stand in front of the shared MLflow: stopping it simulates "MLflow down". */
export interface TcpProxy {
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function createTcpProxy(target: { host: string; port: number }, port?: number): Promise<TcpProxy> {
  const listenPort = port ?? (await freePort());
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    port: listenPort,
    async start() {
      if (server) return;
      const s = createServer((client) => {
        const upstream = connect(target.port, target.host);
        sockets.add(client);
        sockets.add(upstream);
        client.pipe(upstream).pipe(client);
        const done = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', done).on('close', done);
        upstream.on('error', done).on('close', done);
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(listenPort, '127.0.0.1', () => resolve());
      });
      server = s;
    },
    async stop() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
