/**
 * Settles like `work`, unless `ms` pass first: then like `onTimeout()` (its value, or what it
 * throws). The timer is cleared as soon as the race is decided, so it never keeps a process alive
 * nor fires late; `unref` additionally lets the process exit while the race is still open.
 */
export function raceTimer<T, U = T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => U | PromiseLike<U>,
  options: { unref?: boolean } = {},
): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, ms);
    if (options.unref) timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
