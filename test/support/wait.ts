/**
 * Polls `check` until it returns a truthy value: for a condition that announces itself to no one
 * (an HTTP answer, a row, a metric, a port that accepts connections). An error thrown by `check`
 * ends the wait. @returns that value and the time it took (ms).
 * @throws once `timeoutMs` has passed without the condition.
 */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 10_000,
  what = 'condition',
  intervalMs = 20,
): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return { value, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Lets `ms` pass. Only where the passing of time is itself what a test checks (a state that must
 * outlive a TTL, with no event to say that the time has come); never to wait for something to
 * happen: wait for that thing.
 */
export const elapse = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
