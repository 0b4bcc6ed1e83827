/**
 * Where the benchmarks find PostgreSQL and Redis. The defaults are the development machine's (the
 * same as the tests'); override with BENCH_DATABASE_URL (a database the harness may connect to in
 * order to CREATE and DROP its own bench databases) and BENCH_REDIS_URL.
 */
export const BENCH_ADMIN_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
