/**
 * Decides which browser origins may call Parley, for both transports: CORS on HTTP and the
 * `Origin` of the WebSocket handshake (browsers send it and enforce nothing on WebSockets, so
 * the server must). A request without an Origin is not from a browser page and passes.
 */
export interface OriginPolicy {
  /** `true` when `origin` (an `Origin` header value, or undefined when absent) may call. */
  allows(origin: string | undefined): boolean;
}

/**
 * Builds the policy of `CORS_ORIGINS` entries: exact origins (`https://app.example.com`),
 * `scheme://host:*` for any port of a host (including none), or `*` for any origin.
 */
export function createOriginPolicy(entries: readonly string[]): OriginPolicy {
  const any = entries.includes('*');
  const exact = new Set(entries.filter((e) => !e.endsWith(':*')).map((e) => e.replace(/\/+$/, '').toLowerCase()));
  const anyPort = entries.filter((e) => e.endsWith(':*')).map((e) => e.slice(0, -2).toLowerCase());
  return {
    allows(origin) {
      if (origin === undefined || any) return true;
      const o = origin.toLowerCase();
      if (exact.has(o)) return true;
      return anyPort.some(
        (base) => o === base || (o.startsWith(base + ':') && /^\d{1,5}$/.test(o.slice(base.length + 1))),
      );
    },
  };
}
