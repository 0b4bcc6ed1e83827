import { Client } from 'pg';

/**
 * node-postgres's `Client` with its promise form (`client.query(text, values)`, no callback, as
 * TypeORM calls it on pooled connections) run through its callback form, the one pg-pool and
 * PipelinedConnections (pipeline.ts) use. Results, errors, timeouts and every other form are
 * node-postgres's own; the pool is given this class through its documented `Client` option.
 *
 * Why: through the promise form, the rows of every result outlived the next young-generation
 * collection of V8 and were promoted (the promise path's allocation sites are tenured, and the
 * old-space objects then hold the young rows; see pipeline.ts, where the same was found in
 * round 4). Measured on a `conversations` page of 20 conversations with their last messages,
 * loaded through TypeORM and its loaders: 37 KB promoted per page and 1.7 ms scavenge pauses
 * through the promise form; 0.3 KB and 0.65 ms through the callback form, and 13% less CPU.
 */
export class CallbackQueryClient extends Client {
  // node-postgres's overloads are many; only the promise form is rerouted.
  override query(config: any, values?: any, callback?: any): any {
    const callbackForm =
      typeof callback === 'function' || typeof values === 'function' || typeof config?.submit === 'function' || typeof config?.callback === 'function';
    if (callbackForm) return super.query(config, values, callback);
    return new Promise((resolve, reject) => {
      super.query(config, values, (err: Error | null, result: unknown) => (err ? reject(err) : resolve(result)));
    });
  }
}
