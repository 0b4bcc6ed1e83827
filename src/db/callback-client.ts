import { Client } from 'pg';

/**
 * node-postgres's `Client` with its promise form (`client.query(text, values)`, as TypeORM calls
 * it on pooled connections) run through its callback form, the one pg-pool and
 * PipelinedConnections use. Results, errors, timeouts and every other form are node-postgres's
 * own; the pool gets this class through its documented `Client` option. Why: through the promise
 * form the rows of every result outlived young-generation collections (bench/README.md, "Findings").
 */
export class CallbackQueryClient extends Client {
  // node-postgres's overloads are many (and typed `any` here); only the promise form is rerouted.
  /* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument -- matches pg's untyped overloads */
  override query(config: any, values?: any, callback?: any): any {
    const callbackForm =
      typeof callback === 'function' ||
      typeof values === 'function' ||
      typeof config?.submit === 'function' ||
      typeof config?.callback === 'function';
    if (callbackForm) return super.query(config, values, callback);
    return new Promise((resolve, reject) => {
      super.query(config, values, (err: Error | null, result: unknown) => (err ? reject(err) : resolve(result)));
    });
  }
  /* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument */
}
