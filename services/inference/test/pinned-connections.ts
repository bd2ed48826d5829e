import { Agent, type ClientRequest, type ClientRequestArgs, request } from 'node:http';
import { connect, type Socket } from 'node:net';

/**
 * Clients behind kube-proxy: each keeps its connection open for request after request (a
 * keep-alive agent), and a connection, once made, stays with the pod it was made to (conntrack);
 * only NEW connections go to whatever `endpoint()` names now (the Service's ready endpoints).
 */
export interface PinnedClients {
  /** Stops the loops after their current request; resolves with the tally. */
  stop(): Promise<Tally>;
  readonly tally: Tally;
}

export interface Tally {
  /** 2xx answers, by the `version` in the body (which replica answered). */
  ok: Map<string, number>;
  /** Answers that carried `Connection: close`. */
  closing: number;
  non2xx: number;
  /** The non-2xx answers: status and the start of the body. */
  non2xxSamples: string[];
  /** Requests that got no answer (reset, hang-up): what a drain must never cause. */
  failed: FailedRequest[];
  /**
   * Requests reset on a kept-alive connection before any answer, and sent again on a new one, as
   * Node's documentation tells keep-alive clients to (`request.reusedSocket`): HTTP/1.1's race when
   * a server closes a connection that sat idle just as the client reuses it. Only a connection idle
   * through the whole drain can meet it, i.e. a client stalled for that long.
   */
  resentAfterIdleClose: number;
}

/** A request that got no answer, and where it went: a new or a reused connection, to which port. */
export interface FailedRequest {
  message: string;
  code?: string;
  reusedSocket: boolean;
  port?: number;
}

/** The port each connection was made to (a reset socket no longer says). */
const connectedPort = new WeakMap<Socket, number>();

class RoutingAgent extends Agent {
  constructor(private readonly endpoint: () => number) {
    super({ keepAlive: true, maxSockets: 1 });
  }
  override createConnection(_options: ClientRequestArgs, callback?: (error: Error | null, socket: Socket) => void) {
    const port = this.endpoint();
    const socket = connect(port, '127.0.0.1');
    connectedPort.set(socket, port);
    callback?.(null, socket);
    return socket;
  }
}

function failure(error: NodeJS.ErrnoException, req: ClientRequest): FailedRequest {
  return {
    message: error.message,
    ...(error.code ? { code: error.code } : {}),
    reusedSocket: req.reusedSocket,
    ...(req.socket && connectedPort.has(req.socket) ? { port: connectedPort.get(req.socket) } : {}),
  };
}

function post(agent: Agent, body: string, tally: Tally, resent = false): Promise<void> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: 1, // the agent decides where a new connection goes
        path: '/predict',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          if (res.headers.connection === 'close') tally.closing++;
          if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) {
            const version = (JSON.parse(text) as { version: string }).version;
            tally.ok.set(version, (tally.ok.get(version) ?? 0) + 1);
          } else {
            tally.non2xx++;
            if (tally.non2xxSamples.length < 5) tally.non2xxSamples.push(`${res.statusCode} ${text.slice(0, 200)}`);
          }
          resolve();
        });
        res.on('error', (error: NodeJS.ErrnoException) => {
          tally.failed.push(failure(error, req));
          resolve();
        });
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (!resent && req.reusedSocket && error.code === 'ECONNRESET') {
        tally.resentAfterIdleClose++;
        resolve(post(agent, body, tally, true));
        return;
      }
      tally.failed.push(failure(error, req));
      resolve();
    });
    req.end(body);
  });
}

/** `connections` clients, each sending `body` to POST /predict back to back on its own connection. */
export function startPinnedClients(options: {
  connections: number;
  body: string;
  endpoint: () => number;
}): PinnedClients {
  // One agent per client: a shared pool would keep spare sockets idle at the bottom of its stack,
  // and a client that picks one just as the drain closes idle connections sees a reset that no
  // server can prevent (HTTP/1.1's keep-alive race), which is not what this models.
  const agents = Array.from({ length: options.connections }, () => new RoutingAgent(options.endpoint));
  const tally: Tally = {
    ok: new Map(),
    closing: 0,
    non2xx: 0,
    non2xxSamples: [],
    failed: [],
    resentAfterIdleClose: 0,
  };
  let stopping = false;
  const loops = agents.map(async (agent) => {
    while (!stopping) await post(agent, options.body, tally);
  });
  return {
    tally,
    async stop() {
      stopping = true;
      await Promise.all(loops);
      for (const agent of agents) agent.destroy();
      return tally;
    },
  };
}
