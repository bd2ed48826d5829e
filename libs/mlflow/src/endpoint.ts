import type { z } from 'zod';
import type { HttpMethod, Query, RetryMode, Transport } from './transport.js';

/** The prefix of MLflow's REST API. */
export const API = '/api/2.0/mlflow';

export type CallEndpoint = {
  /** GET: the parameters go in the query string. */
  <S extends z.ZodType>(
    method: 'GET',
    endpoint: string,
    schema: S,
    params: Query,
    retry?: RetryMode,
  ): Promise<z.output<S>>;
  /** POST, DELETE, …: the parameters go in a JSON body. */
  <S extends z.ZodType>(
    method: Exclude<HttpMethod, 'GET'>,
    endpoint: string,
    schema: S,
    params: object,
    retry?: RetryMode,
  ): Promise<z.output<S>>;
};

/**
 * One call of MLflow's REST API, `/api/2.0/mlflow/<endpoint>`, as MLflow's own `call_endpoint`:
 * the parameters as query (GET) or JSON body, the answer parsed with `schema`, retried as a
 * repeatable call unless told otherwise.
 */
export function endpointCaller(transport: Transport): CallEndpoint {
  return (<S extends z.ZodType>(
    method: HttpMethod,
    endpoint: string,
    schema: S,
    params: object,
    retry: RetryMode = 'idempotent',
  ) =>
    transport.json({
      method,
      path: `${API}/${endpoint}`,
      ...(method === 'GET' ? { query: params as Query } : { json: params }),
      schema,
      retry,
    })) as CallEndpoint;
}
