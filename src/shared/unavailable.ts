/**
 * SQLSTATEs of a database that cannot serve now: class 08 (connection exception), 53300 (too many
 * connections), 57P01-57P03 (terminated by an administrator, crash shutdown, cannot connect now)
 * and 57014 (cancelled by a statement timeout).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|53300|57P0[123]|57014)$/;

/** Node's system error codes of a connection that cannot be made or was cut. */
const UNAVAILABLE_SYSCALL = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * Messages of node-postgres, pg-pool, Parley's pipelined connections and ioredis for a connection
 * that is gone, could not be had in time, or a command that timed out.
 */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|no database connection|Command timed out|Stream isn't writeable|Connection is closed|Reached the max retries per request limit|Query read timeout)/;

/**
 * Tells whether `err` (or what it wraps: TypeORM's `driverError`, an `Error.cause`, a GraphQL
 * error's `originalError`) says PostgreSQL or Redis could not serve the operation now, as opposed
 * to a bug or a client's mistake. Such failures are answered with SERVICE_UNAVAILABLE.
 */
export function isUnavailableError(err: unknown): boolean {
  for (let e = err as Record<string, unknown> | null | undefined, depth = 0; e && depth < 5; depth++) {
    const code = e.code;
    if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_SYSCALL.has(code))) return true;
    if (e.name === 'MaxRetriesPerRequestError') return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
    if (e.name === 'AggregateError' && Array.isArray(e.errors) && e.errors.some(isUnavailableError)) return true;
    e = (e.originalError ?? e.driverError ?? e.cause) as Record<string, unknown> | null | undefined;
  }
  return false;
}
