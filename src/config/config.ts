import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';

/**
 * Every environment variable Parley reads, with its validation and default. This module is the
 * only reader of `process.env` (the layout of outline's `env.ts`): the rest of the code receives a
 * frozen {@link Config}. `.env.example` lists the same variables.
 */
const schema = z.object({
  /** HTTP and WebSocket port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Interface to bind. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** PostgreSQL URL. Unset: the embedded PGlite database in DATA_DIR. */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /** Redis URL for pub/sub, sessions and presence. Unset: in-process pub/sub (one instance only). */
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  /** Prefix of every Redis key and channel, so that several deployments can share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]*$/)
    .default('parley:'),
  /** Folder of the embedded database and the generated JWT secret (embedded default only). */
  DATA_DIR: z.string().min(1).default('.parley'),
  /** HS256 secret, at least 32 characters. Unset on the embedded default: generated and kept in DATA_DIR. */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Lifetime of an access token, in seconds. */
  TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(30 * 24 * 3600)
    .default(24 * 3600),
  /** How long an instance trusts a session it found live without asking the store again, in ms (0: always ask). */
  SESSION_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  /** Most participants in one conversation. */
  MAX_PARTICIPANTS: z.coerce.number().int().min(2).max(10_000).default(100),
  /** Size of the PostgreSQL connection pool per instance. */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Pipelined PostgreSQL connections per instance for single-statement sends and history pages (0: use the pool). */
  DB_PIPELINE_CONNECTIONS: z.coerce.number().int().min(0).max(64).default(4),
  /** Most bytes a WebSocket may have waiting to be written before it is dropped as a slow consumer. */
  WS_MAX_BUFFERED_BYTES: z.coerce
    .number()
    .int()
    .min(65_536)
    .max(1_073_741_824)
    .default(8 * 1024 * 1024),
  /** WebSocket keep-alive period, in ms: sockets are pinged this often and terminated when nothing (not even the pong) arrived since the previous ping. 0: off. */
  WS_KEEP_ALIVE_MS: z.coerce
    .number()
    .int()
    .refine((ms) => ms === 0 || (ms >= 100 && ms <= 600_000), 'must be 0 (off) or 100-600000')
    .default(12_000),
  /** pino level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Time allowed to drain connections on SIGTERM/SIGINT, in ms. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  /** How often an instance refreshes the presence entries of its open sockets, in ms. */
  PRESENCE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Lifetime of a presence entry that is not refreshed (an instance that died), in ms. */
  PRESENCE_TTL_MS: z.coerce.number().int().min(300).max(300_000).default(30_000),
  /** How often an instance looks for expired presence entries (of any instance), in ms. */
  PRESENCE_SWEEP_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Stable name of this instance, for clearing its own presence entries after a crash. */
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,100}$/, 'must be 1-100 of letters, digits and : _ . -')
    .optional(),

  // --- Reliability ---
  /** Longest wait for one Redis command, in ms: past it the command fails (and the caller falls back or answers SERVICE_UNAVAILABLE). */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(500),
  /** How often an instance checks, in one query, that its `messageAdded` subscribers have every conversation's newest message, in ms (0: only after a pub/sub reconnect). */
  MESSAGE_TAIL_CHECK_MS: z.coerce
    .number()
    .int()
    .refine((ms) => ms === 0 || (ms >= 100 && ms <= 600_000), 'must be 0 (off) or 100-600000')
    .default(5_000),
  // --- Notifications ----------------------------------------------------------------------------
  /** `off`: this instance enqueues no notification jobs at all (sends and new conversations make none); its worker still runs unless NOTIFY_WORKER=false. */
  NOTIFICATIONS: z.enum(['on', 'off']).default('on'),
  /** Whether this instance runs the notifications worker (`false`: it only enqueues). */
  NOTIFY_WORKER: z.stringbool().default(true),
  /** Notification jobs one instance's worker runs at once, and batches of its own messages it decides itself at once. */
  NOTIFY_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** Coalescing window of external deliveries per (recipient, conversation), in ms. */
  NOTIFY_COALESCE_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  /** How long a job held by a worker that died waits before another worker takes it, in ms. */
  NOTIFY_JOB_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** How often jobs parked in PostgreSQL during a Redis outage are handed back to the queue, in ms. */
  NOTIFY_PARKED_RETRY_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** URL that receives each external delivery as a signed POST. Unset: no webhook. */
  NOTIFY_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** HMAC-SHA256 key of the webhook's X-Parley-Signature, at least 16 characters. */
  NOTIFY_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /** VAPID public key (base64url). All three VAPID_* or none: Web Push is off without them. */
  VAPID_PUBLIC_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url')
    .optional(),
  /** VAPID private key (base64url). */
  VAPID_PRIVATE_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url')
    .optional(),
  /** VAPID subject: a `mailto:` or `https:` URL push services may contact. */
  VAPID_SUBJECT: z
    .string()
    .regex(/^(mailto:|https:\/\/)\S+$/, 'must be a mailto: or https: URL')
    .optional(),
  /** Comma-separated hosts a Web Push endpoint may have even when they resolve to private addresses. */
  WEB_PUSH_ALLOWED_HOSTS: z.string().default(''),
  // --- Web client (src/web) ---
  /** Folder of the built web client served at `/` (`npm run build:web` writes dist/web). `off`: serve none. */
  WEB_DIR: z.string().min(1).default('dist/web'),
  // --- Developer experience (issue 15) --------------------------------------------------------
  /**
   * `production` switches the explorer and the localhost CORS default off when DATABASE_URL is
   * set, and introspection and field suggestions off unless GRAPHQL_INTROSPECTION /
   * GRAPHQL_FIELD_SUGGESTIONS say otherwise.
   */
  NODE_ENV: z.string().optional(),
  /** Comma-separated browser origins allowed on HTTP (CORS) and the WebSocket handshake; `*` allows any; `http://localhost:*` allows any port. */
  CORS_ORIGINS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== ''),
    )
    .optional(),
  /** `true`/`false`: serve the explorer at GET /graphql for browsers (default: on unless production with DATABASE_URL). */
  EXPLORER: z.enum(['true', 'false']).optional(),
  /**
   * OTLP collector base URL (`http(s)://host:4318`): set, spans of HTTP requests, GraphQL operations,
   * PostgreSQL queries and Redis commands are exported there (src/app/tracing.ts); unset, no
   * OpenTelemetry SDK is loaded. The SDK reads its other standard `OTEL_*` variables itself.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** `service.name` of the spans. */
  OTEL_SERVICE_NAME: z.string().min(1).default('parley'),
});

/** A rate as `<points>/<seconds>`, e.g. `10/1`: at most `points` in each window of `seconds`. */
const rate = (fallback: string) =>
  z
    .string()
    .regex(/^\d{1,9}\/\d{1,6}$/, 'must be <points>/<seconds>, e.g. 10/1')
    .default(fallback)
    .transform((v) => {
      const [points, seconds] = v.split('/').map(Number);
      return { points, seconds };
    })
    .refine((r) => r.points >= 1 && r.seconds >= 1, 'points and seconds must be at least 1');
const count = (fallback: number, max = 1_000_000_000) => z.coerce.number().int().min(1).max(max).default(fallback);
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

/**
 * Safety limits (README, "Limits"). Rates are `<points>/<seconds>`; a refused operation is
 * RATE_LIMITED with `extensions.retryAfterMs` (HTTP 429 with Retry-After).
 */
const limitsSchema = z.object({
  /** Messages per user (sendMessage fields), steady rate. */
  RATE_LIMIT_SEND: rate('10/1'),
  /** Extra messages per user beyond RATE_LIMIT_SEND, refilled over 10 s (a burst). */
  RATE_LIMIT_SEND_BURST: z.coerce.number().int().min(0).max(1_000_000_000).default(20),
  /** login fields per client address. */
  RATE_LIMIT_LOGIN_IP: rate('30/60'),
  /** Consecutive failed logins of one username before it is locked (also for unknown usernames). */
  LOGIN_LOCKOUT_FAILURES: count(5),
  /** First lock of a username, in seconds; doubles with each further failure. */
  LOGIN_LOCKOUT_SECONDS: count(30),
  /** Longest lock of a username, in seconds. */
  LOGIN_LOCKOUT_MAX_SECONDS: count(3600),
  /** register fields per client address. */
  RATE_LIMIT_REGISTER_IP: rate('10/3600'),
  /** setTyping fields per user. */
  RATE_LIMIT_TYPING: rate('30/10'),
  /** markConversationRead fields per user. */
  RATE_LIMIT_READ_RECEIPTS: rate('60/10'),
  /** setPresenceStatus and setActiveConversation fields per user. */
  RATE_LIMIT_PRESENCE: rate('30/10'),
  /** Open WebSockets per user, across instances. */
  WS_MAX_CONNECTIONS_PER_USER: count(50),
  /** Open WebSockets per client address, across instances. */
  WS_MAX_CONNECTIONS_PER_IP: count(500),
  /** Subscriptions running at once on one WebSocket. */
  WS_MAX_SUBSCRIPTIONS: count(100),
  /** Most bytes of a WebSocket frame and of an HTTP body. */
  MAX_REQUEST_BYTES: count(1024 * 1024, 64 * 1024 * 1024),
  /** Deepest field nesting of an operation. */
  GRAPHQL_MAX_DEPTH: count(10),
  /** Most aliases in an operation. */
  GRAPHQL_MAX_ALIASES: count(15),
  /** Most directives in an operation. */
  GRAPHQL_MAX_DIRECTIVES: count(10),
  /** Most lexical tokens in a document. */
  GRAPHQL_MAX_TOKENS: count(2000),
  /** Most cost of an operation: 1 per field, a list field's selection counted `first` times. */
  GRAPHQL_MAX_COST: count(20_000),
  /** Introspection queries allowed (default: true unless NODE_ENV=production). */
  GRAPHQL_INTROSPECTION: flag.optional(),
  /** "Did you mean ...?" in validation errors (default: true unless NODE_ENV=production). */
  GRAPHQL_FIELD_SUGGESTIONS: flag.optional(),
});

/** A rate: at most `points` per window of `seconds`. */
export interface Rate {
  readonly points: number;
  readonly seconds: number;
}

/** The safety limits (README, "Limits"). */
export interface LimitsConfig {
  readonly send: Rate;
  /** Extra sends beyond {@link send}, refilled over 10 s. */
  readonly sendBurst: number;
  readonly loginPerIp: Rate;
  /** Consecutive failures of one username before it is locked. */
  readonly loginLockoutFailures: number;
  /** First lock, seconds (doubling per further failure, up to {@link loginLockoutMaxSeconds}). */
  readonly loginLockoutSeconds: number;
  readonly loginLockoutMaxSeconds: number;
  readonly registerPerIp: Rate;
  readonly typing: Rate;
  readonly readReceipts: Rate;
  readonly presence: Rate;
  readonly wsConnectionsPerUser: number;
  readonly wsConnectionsPerIp: number;
  readonly wsSubscriptionsPerSocket: number;
  /** Bytes of an HTTP body or a WebSocket frame. */
  readonly maxRequestBytes: number;
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  readonly maxTokens: number;
  readonly maxCost: number;
  readonly introspection: boolean;
  readonly fieldSuggestions: boolean;
}

/** Notification settings (see the README's Notifications section). */
export interface NotifyConfig {
  /** Enforce the Web Push endpoint rules (NODE_ENV=production). */
  readonly production: boolean;
  /** Enqueue a job per committed message and created conversation (NOTIFICATIONS=on). */
  readonly enqueue: boolean;
  /** Run the worker on this instance. */
  readonly worker: boolean;
  readonly workerConcurrency: number;
  /** ms */
  readonly coalesceMs: number;
  /** ms */
  readonly jobLockMs: number;
  /** ms */
  readonly parkedRetryMs: number;
  /** `null`: no webhook. */
  readonly webhook: { readonly url: string; readonly secret: string } | null;
  /** `null`: no Web Push. */
  readonly vapid: { readonly publicKey: string; readonly privateKey: string; readonly subject: string } | null;
  /** Lower-cased host names. */
  readonly webPushAllowedHosts: readonly string[];
}

/** The validated, frozen configuration of one Parley instance. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** `null` selects the embedded PGlite database. */
  readonly databaseUrl: string | null;
  /** `null` selects in-process pub/sub and stores. */
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
  readonly dataDir: string;
  /** `null` on the embedded default until a secret has been generated in {@link Config.dataDir}. */
  readonly jwtSecret: string | null;
  /** Token lifetime in seconds. */
  readonly tokenTtlSeconds: number;
  /**
   * How long a session found live is trusted without asking the session store again, in ms; 0
   * asks on every request. Revocations evict at once; the bound matters only when an instance
   * misses a revocation event (see SessionCache).
   */
  readonly sessionCacheMs: number;
  readonly maxParticipants: number;
  readonly dbPoolSize: number;
  /** Pipelined connections for hot single statements (see PipelinedConnections); 0 sends them through the pool. Not used on the embedded database. */
  readonly dbPipelineConnections: number;
  /** WebSocket keep-alive period, ms: a socket from which nothing arrived within it, not even the pong to its ping, is terminated. 0: off. */
  readonly wsKeepAliveMs: number;
  /** Bytes a WebSocket may have queued for writing (beyond what the kernel took) before it is terminated as a slow consumer. */
  readonly wsMaxBufferedBytes: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** ms */
  readonly shutdownTimeoutMs: number;
  /** Presence heartbeat period, ms. */
  readonly presenceHeartbeatMs: number;
  /** Presence entry lifetime without a heartbeat, ms (at least twice the heartbeat). */
  readonly presenceTtlMs: number;
  /** Period of the sweep for expired presence entries and forgotten typing states, ms. */
  readonly presenceSweepMs: number;
  /**
   * This instance's name in the presence store: INSTANCE_ID, else `<hostname>:<PORT>` (stable
   * across restarts of one deployment slot), else with PORT=0 a random one.
   */
  readonly instanceId: string;
  readonly notify: NotifyConfig;
  readonly limits: LimitsConfig;
  /** Longest wait for one Redis command, ms (ioredis `commandTimeout`). */
  readonly redisCommandTimeoutMs: number;
  /**
   * Period of the check that the `messageAdded` subscribers of this instance have the newest
   * message of each of their conversations (a lost event is filled from PostgreSQL), ms; 0 runs
   * it only after a pub/sub reconnect.
   */
  readonly messageTailCheckMs: number;
  /** Folder of the built web client served at `/`, relative to the working directory; `null`: none. */
  readonly webDir: string | null;
  /**
   * Browser origins allowed on both transports (CORS and the WebSocket `Origin`): exact origins,
   * `scheme://host:*` for any port, or `*` for any origin. Default: `http://localhost:*` and
   * `http://127.0.0.1:*` in development and on the embedded default; none in production with a
   * DATABASE_URL.
   */
  readonly corsOrigins: readonly string[];
  /** Serve the explorer at `GET /graphql` for browsers (see EXPLORER). */
  readonly explorer: boolean;
  /** OpenTelemetry tracing (OTEL_EXPORTER_OTLP_ENDPOINT set), else `null`: no SDK is loaded. */
  readonly tracing: { readonly endpoint: string; readonly serviceName: string } | null;
}

/** Thrown by {@link loadConfig} with every problem found, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the configuration once.
 *
 * @param env - the variables to read; `process.env` by default (tests pass their own object).
 * @returns a frozen {@link Config}.
 * @throws ConfigError listing every invalid variable together, so one run shows them all.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset", as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  const parsedLimits = limitsSchema.safeParse(cleaned);
  if (!parsed.success || !parsedLimits.success) {
    const issues = [...(parsed.error?.issues ?? []), ...(parsedLimits.error?.issues ?? [])];
    throw new ConfigError(issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const l = parsedLimits.data;
  const v = parsed.data;
  const development = v.NODE_ENV !== 'production';
  if (v.REDIS_URL && !v.DATABASE_URL) {
    throw new ConfigError(['REDIS_URL is set but DATABASE_URL is not: several instances need a shared PostgreSQL']);
  }
  if (v.DATABASE_URL && !v.JWT_SECRET) {
    throw new ConfigError(['JWT_SECRET: required when DATABASE_URL is set (every instance must share it)']);
  }
  if (v.PRESENCE_TTL_MS < 2 * v.PRESENCE_HEARTBEAT_MS) {
    // One late heartbeat (a GC pause, a Redis blip) must not make a connected user look offline.
    throw new ConfigError(['PRESENCE_TTL_MS: must be at least twice PRESENCE_HEARTBEAT_MS']);
  }
  if (!v.NOTIFY_WEBHOOK_URL !== !v.NOTIFY_WEBHOOK_SECRET) {
    throw new ConfigError(['NOTIFY_WEBHOOK_URL and NOTIFY_WEBHOOK_SECRET: set both or neither']);
  }
  const vapidSet = [v.VAPID_PUBLIC_KEY, v.VAPID_PRIVATE_KEY, v.VAPID_SUBJECT].filter(Boolean).length;
  if (vapidSet !== 0 && vapidSet !== 3) {
    throw new ConfigError(['VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT: set all three or none']);
  }
  // Development and the embedded default are for trying things out on this machine.
  const local = v.NODE_ENV !== 'production' || !v.DATABASE_URL;
  return Object.freeze({
    port: v.PORT,
    host: v.HOST,
    databaseUrl: v.DATABASE_URL ?? null,
    redisUrl: v.REDIS_URL ?? null,
    redisPrefix: v.REDIS_PREFIX,
    dataDir: v.DATA_DIR,
    jwtSecret: v.JWT_SECRET ?? null,
    tokenTtlSeconds: v.TOKEN_TTL_SECONDS,
    sessionCacheMs: v.SESSION_CACHE_MS,
    maxParticipants: v.MAX_PARTICIPANTS,
    dbPoolSize: v.DB_POOL_SIZE,
    dbPipelineConnections: v.DB_PIPELINE_CONNECTIONS,
    wsKeepAliveMs: v.WS_KEEP_ALIVE_MS,
    wsMaxBufferedBytes: v.WS_MAX_BUFFERED_BYTES,
    logLevel: v.LOG_LEVEL,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    presenceHeartbeatMs: v.PRESENCE_HEARTBEAT_MS,
    presenceTtlMs: v.PRESENCE_TTL_MS,
    presenceSweepMs: v.PRESENCE_SWEEP_MS,
    instanceId: v.INSTANCE_ID ?? `${hostname()}:${v.PORT === 0 ? randomUUID() : v.PORT}`,
    limits: Object.freeze({
      send: l.RATE_LIMIT_SEND,
      sendBurst: l.RATE_LIMIT_SEND_BURST,
      loginPerIp: l.RATE_LIMIT_LOGIN_IP,
      loginLockoutFailures: l.LOGIN_LOCKOUT_FAILURES,
      loginLockoutSeconds: l.LOGIN_LOCKOUT_SECONDS,
      loginLockoutMaxSeconds: Math.max(l.LOGIN_LOCKOUT_MAX_SECONDS, l.LOGIN_LOCKOUT_SECONDS),
      registerPerIp: l.RATE_LIMIT_REGISTER_IP,
      typing: l.RATE_LIMIT_TYPING,
      readReceipts: l.RATE_LIMIT_READ_RECEIPTS,
      presence: l.RATE_LIMIT_PRESENCE,
      wsConnectionsPerUser: l.WS_MAX_CONNECTIONS_PER_USER,
      wsConnectionsPerIp: l.WS_MAX_CONNECTIONS_PER_IP,
      wsSubscriptionsPerSocket: l.WS_MAX_SUBSCRIPTIONS,
      maxRequestBytes: l.MAX_REQUEST_BYTES,
      maxDepth: l.GRAPHQL_MAX_DEPTH,
      maxAliases: l.GRAPHQL_MAX_ALIASES,
      maxDirectives: l.GRAPHQL_MAX_DIRECTIVES,
      maxTokens: l.GRAPHQL_MAX_TOKENS,
      maxCost: l.GRAPHQL_MAX_COST,
      introspection: l.GRAPHQL_INTROSPECTION ?? development,
      fieldSuggestions: l.GRAPHQL_FIELD_SUGGESTIONS ?? development,
    }),
    redisCommandTimeoutMs: v.REDIS_COMMAND_TIMEOUT_MS,
    messageTailCheckMs: v.MESSAGE_TAIL_CHECK_MS,
    webDir: v.WEB_DIR === 'off' ? null : v.WEB_DIR,
    notify: Object.freeze({
      production: v.NODE_ENV === 'production',
      enqueue: v.NOTIFICATIONS === 'on',
      worker: v.NOTIFY_WORKER,
      workerConcurrency: v.NOTIFY_WORKER_CONCURRENCY,
      coalesceMs: v.NOTIFY_COALESCE_MS,
      jobLockMs: v.NOTIFY_JOB_LOCK_MS,
      parkedRetryMs: v.NOTIFY_PARKED_RETRY_MS,
      webhook: v.NOTIFY_WEBHOOK_URL ? { url: v.NOTIFY_WEBHOOK_URL, secret: v.NOTIFY_WEBHOOK_SECRET! } : null,
      vapid: v.VAPID_PUBLIC_KEY
        ? { publicKey: v.VAPID_PUBLIC_KEY, privateKey: v.VAPID_PRIVATE_KEY!, subject: v.VAPID_SUBJECT! }
        : null,
      webPushAllowedHosts: v.WEB_PUSH_ALLOWED_HOSTS.split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    }),
    corsOrigins: Object.freeze(v.CORS_ORIGINS ?? (local ? ['http://localhost:*', 'http://127.0.0.1:*'] : [])),
    explorer: v.EXPLORER ? v.EXPLORER === 'true' : local,
    tracing: v.OTEL_EXPORTER_OTLP_ENDPOINT
      ? Object.freeze({ endpoint: v.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: v.OTEL_SERVICE_NAME })
      : null,
  });
}
