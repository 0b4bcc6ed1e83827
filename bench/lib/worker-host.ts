/**
 * The child side of a load-generator or baseline process: it answers the orchestrator's task
 * calls over the IPC channel (see {@link WorkerProcess}) and exits when the orchestrator goes.
 */

/**
 * The tasks a worker offers: each takes one structured-clonable argument (or none). `never` as the
 * parameter type admits a handler of any parameter type; {@link WorkerProcess.call} types each call.
 */
export type Handlers = Record<string, (params: never) => unknown>;

/** A call from the orchestrator. */
export interface TaskRequest {
  id: number;
  task: string;
  params: unknown;
}

/** The answer to a {@link TaskRequest}. */
export type TaskResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** Serves `handlers` on the IPC channel; tells the parent it is ready. */
export function serveTasks(handlers: Handlers): void {
  if (!process.send) throw new Error('a bench worker must be started with an IPC channel (WorkerProcess.start)');
  const send = process.send.bind(process);
  process.on('message', (message: TaskRequest) => {
    const handler = handlers[message.task];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown task ${message.task}`);
        // The params come over IPC untyped: WorkerProcess.call typed them for this task.
        return handler(message.params as never);
      })
      .then(
        (result) => send({ id: message.id, ok: true, result } satisfies TaskResponse),
        (err: unknown) =>
          send({
            id: message.id,
            ok: false,
            error: err instanceof Error ? (err.stack ?? err.message) : String(err),
          } satisfies TaskResponse),
      );
  });
  // The orchestrator ended (or crashed): nothing is left to serve.
  process.on('disconnect', () => process.exit(0));
  send({ ready: true });
}
