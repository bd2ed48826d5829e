/** The requests tests make to the inference API: in-process (`app.inject`) or to a listening server. */

const JSON_BODY = { 'content-type': 'application/json' };

/** `app.inject` options for POST /predict with `body`, JSON text sent as it is (inject does not re-serialise it). */
export const predictRequest = (body: string) => ({
  method: 'POST' as const,
  url: '/predict',
  headers: JSON_BODY,
  payload: body,
});

/** POST /predict with `body`, JSON text, to the server listening at `url`. */
export const postPredict = (url: string, body: string): Promise<Response> =>
  fetch(`${url}/predict`, { method: 'POST', headers: JSON_BODY, body });
