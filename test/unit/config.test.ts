import { ConfigError, loadConfig } from '../../src/config/config';

describe('loadConfig', () => {
  it('gives the embedded default when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      databaseUrl: null,
      redisUrl: null,
      jwtSecret: null,
      tokenTtlSeconds: 86400,
      maxParticipants: 100,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).databaseUrl).toBeNull();
  });

  it('reports every invalid variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        JWT_SECRET: 'short',
        MAX_PARTICIPANTS: '1',
        LOG_LEVEL: 'loud',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const fields = (error as ConfigError).problems.map((p) => p.split(':')[0]);
    expect(fields).toEqual(
      expect.arrayContaining(['PORT', 'DATABASE_URL', 'JWT_SECRET', 'MAX_PARTICIPANTS', 'LOG_LEVEL']),
    );
  });

  it('reads the WebSocket keep-alive period: 12 s by default, 0 turns it off', () => {
    expect(loadConfig({}).wsKeepAliveMs).toBe(12_000);
    expect(loadConfig({ WS_KEEP_ALIVE_MS: '0' }).wsKeepAliveMs).toBe(0);
    expect(loadConfig({ WS_KEEP_ALIVE_MS: '500' }).wsKeepAliveMs).toBe(500);
    expect(() => loadConfig({ WS_KEEP_ALIVE_MS: '50' })).toThrow(/WS_KEEP_ALIVE_MS/);
  });

  it('needs a shared JWT_SECRET with DATABASE_URL, and PostgreSQL with Redis', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/parley' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ REDIS_URL: 'redis://cache:6379' })).toThrow(/DATABASE_URL/);
    const config = loadConfig({
      DATABASE_URL: 'postgres://db/parley',
      REDIS_URL: 'redis://cache:6379',
      JWT_SECRET: 's'.repeat(32),
    });
    expect(config).toMatchObject({ databaseUrl: 'postgres://db/parley', redisUrl: 'redis://cache:6379' });
  });

  it('reads the safety limits, with introspection and suggestions off in production unless overridden', () => {
    const dev = loadConfig({});
    expect(dev.limits).toMatchObject({
      send: { points: 10, seconds: 1 },
      sendBurst: 20,
      maxRequestBytes: 1024 * 1024,
      introspection: true,
      fieldSuggestions: true,
    });
    expect(Object.isFrozen(dev.limits)).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).limits).toMatchObject({
      introspection: false,
      fieldSuggestions: false,
    });
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' }).limits.introspection).toBe(true);
    expect(loadConfig({ RATE_LIMIT_TYPING: '5/2' }).limits.typing).toEqual({ points: 5, seconds: 2 });
  });

  it('reports bad limits together with other problems', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'x', RATE_LIMIT_SEND: 'ten', GRAPHQL_MAX_DEPTH: '0' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.split(':')[0])).toEqual([
      'PORT',
      'RATE_LIMIT_SEND',
      'GRAPHQL_MAX_DEPTH',
    ]);
  });
});

describe('developer-experience defaults', () => {
  const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://x@h/db', JWT_SECRET: 's'.repeat(32) };

  it('allows localhost origins and the explorer in development and on the embedded default', () => {
    for (const env of [
      {},
      { NODE_ENV: 'production' },
      { DATABASE_URL: production.DATABASE_URL, JWT_SECRET: production.JWT_SECRET },
    ]) {
      const config = loadConfig(env);
      expect(config.corsOrigins).toEqual(['http://localhost:*', 'http://127.0.0.1:*']);
      expect(config.explorer).toBe(true);
    }
  });

  it('allows no origin and no explorer in production with DATABASE_URL', () => {
    const config = loadConfig(production);
    expect(config.corsOrigins).toEqual([]);
    expect(config.explorer).toBe(false);
  });

  it('takes CORS_ORIGINS and EXPLORER over either default', () => {
    expect(loadConfig({ ...production, CORS_ORIGINS: 'https://a.example, *', EXPLORER: 'true' })).toMatchObject({
      corsOrigins: ['https://a.example', '*'],
      explorer: true,
    });
    expect(loadConfig({ EXPLORER: 'false' }).explorer).toBe(false);
    expect(() => loadConfig({ EXPLORER: 'yes' })).toThrow(ConfigError);
  });
});
