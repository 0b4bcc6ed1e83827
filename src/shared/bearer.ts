/**
 * The token of an `Authorization: Bearer <token>` value, or `null` when the value is absent or
 * of another scheme.
 */
export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}

/**
 * The token in a graphql-ws `connection_init` payload: `{ authToken }`, or
 * `{ Authorization: "Bearer ..." }` (any case of the key), as the API contract allows.
 */
export function connectionParamsToken(params: Readonly<Record<string, unknown>> | undefined): string | null {
  if (!params) return null;
  if (typeof params.authToken === 'string' && params.authToken !== '') return params.authToken;
  const key = Object.keys(params).find((k) => k.toLowerCase() === 'authorization');
  return key ? bearerToken(params[key]) : null;
}
