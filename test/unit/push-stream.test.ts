import { pushIterator } from '../support/push-iterator';

/** A stream that runs until it is stopped: `push` feeds it (once started), `cleaned()` tells whether its clean-up ran. */
function cleanedUpStream() {
  let feed: ((v: number) => Promise<void>) | null = null;
  let cleaned = false;
  const stream = pushIterator<number>(async (p, stop) => {
    feed = p;
    await stop;
    cleaned = true;
  });
  return { stream, push: (v: number) => feed!(v), cleaned: () => cleaned };
}

describe('pushIterator', () => {
  it('delivers pushed values in order, including those pushed before they were asked for', async () => {
    let push!: (v: number) => Promise<void>;
    const it = pushIterator<number>(async (p, stop) => {
      push = p;
      void p(1);
      void p(2);
      await stop;
    });
    expect((await it.next()).value).toBe(1);
    expect((await it.next()).value).toBe(2);
    // Asked for before it is pushed.
    const third = it.next();
    void push(3);
    expect((await third).value).toBe(3);
    await it.return();
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it("runs the executor's clean-up when the consumer returns", async () => {
    let cleaned = false;
    const it = pushIterator<number>(async (_push, stop) => {
      await stop;
      cleaned = true;
    });
    const pending = it.next();
    await it.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    await new Promise((r) => setImmediate(r));
    expect(cleaned).toBe(true);
  });

  it('hands an executor failure to the consumer after the values pushed before it', async () => {
    const it = pushIterator<number>(async (push) => {
      void push(1);
      throw new Error('boom');
    });
    expect((await it.next()).value).toBe(1);
    await expect(it.next()).rejects.toThrow('boom');
  });

  it('resolves a push only once its value is taken (back-pressure)', async () => {
    const log: string[] = [];
    const it = pushIterator<number>(async (push, stop) => {
      await push(1);
      log.push('1 taken');
      await push(2);
      log.push('2 taken');
      await stop;
    });
    // One turn of the event loop: every promise continuation that can run has run.
    const flush = () => new Promise((r) => setImmediate(r));
    expect((await it.next()).value).toBe(1);
    await flush();
    expect(log).toEqual(['1 taken']);
    expect((await it.next()).value).toBe(2);
    await flush();
    expect(log).toEqual(['1 taken', '2 taken']);
    await it.return();
  });
});

describe('PushStream read with for await (as graphql-ws makeServer reads a subscription)', () => {
  it('hands values in push order to a waiting consumer, and a break ends the stream and runs its clean-up', async () => {
    const { stream: it, push, cleaned } = cleanedUpStream();
    const seen: number[] = [];
    const reading = (async () => {
      for await (const v of it) {
        seen.push(v);
        if (v === 3) break;
      }
    })();
    await new Promise((r) => setImmediate(r));
    await push(1);
    void push(2);
    void push(3);
    void push(4);
    await reading;
    expect(seen).toEqual([1, 2, 3]);
    await new Promise((r) => setImmediate(r));
    expect(cleaned()).toBe(true);
  });

  it('rejects the waiting next() with the error the stream ends with', async () => {
    let stop!: (error?: unknown) => void;
    const it = pushIterator<number>(async (_push, s) => {
      stop = s;
      await s;
    });
    const reading = (async () => {
      for await (const _ of it) void _;
    })();
    await new Promise((r) => setImmediate(r));
    stop(new Error('boom'));
    await expect(reading).rejects.toThrow('boom');
  });
});

describe('PushStream.nextMapped', () => {
  it('maps values pushed to a waiting consumer and buffered ones, synchronously or through a promise, in order', async () => {
    let push!: (v: number) => Promise<void>;
    const it = pushIterator<number>(async (p, s) => {
      push = p;
      await s;
    });
    const mapper = { map: (v: number) => (v % 2 ? `odd ${v}` : Promise.resolve(`even ${v}`)) };
    const first = it.nextMapped(mapper);
    await new Promise((r) => setImmediate(r));
    void push(1);
    void push(2);
    expect(await first).toEqual({ value: 'odd 1', done: false });
    expect(await it.nextMapped(mapper)).toEqual({ value: 'even 2', done: false });
    await it.return();
    expect(await it.nextMapped(mapper)).toEqual({ value: undefined, done: true });
  });

  it('rejects the waiting next() when the mapper throws', async () => {
    let push!: (v: number) => Promise<void>;
    const it = pushIterator<number>(async (p, s) => {
      push = p;
      await s;
    });
    const waiting = it.nextMapped({
      map: () => {
        throw new Error('cannot map');
      },
    });
    await new Promise((r) => setImmediate(r));
    void push(1);
    await expect(waiting).rejects.toThrow('cannot map');
    await it.return();
  });

  it('ends the stream, running its clean-up, when the mapper throws or rejects (its reader stops without return())', async () => {
    const failing = [
      () => {
        throw new Error('cannot map');
      },
      () => Promise.reject(new Error('cannot map')),
    ];
    for (const map of failing) {
      let push!: (v: number) => Promise<void>;
      let cleaned = false;
      const it = pushIterator<number>(async (p, s) => {
        push = p;
        await s;
        cleaned = true;
      });
      const waiting = it.nextMapped({ map });
      await new Promise((r) => setImmediate(r));
      void push(1);
      await expect(waiting).rejects.toThrow('cannot map');
      await new Promise((r) => setImmediate(r));
      expect(cleaned).toBe(true);
      expect(await it.next()).toEqual({ value: undefined, done: true });
    }
  });

  it('drains to a sink: buffered values first, then each push in the same call, until the stream ends', async () => {
    const taken: number[] = [];
    let push!: (v: number) => Promise<void>;
    let stop!: () => void;
    const stream = pushIterator<number>(async (p, s) => {
      push = p;
      stop = s;
      void p(1);
      await s;
    });
    const buffered = stream.next(); // starts it: 1 is handed to this next()
    expect((await buffered).value).toBe(1);
    void push(2); // buffered: no consumer waits
    const ended = stream.drainTo({ take: (v) => taken.push(v) });
    expect(taken).toEqual([2]);
    await push(3);
    expect(taken).toEqual([2, 3]);
    stop();
    expect(await ended).toEqual({ value: undefined, done: true });
    void push(4);
    expect(taken).toEqual([2, 3]);
  });

  it("ends a drained stream with the sink's error", async () => {
    const { stream, push, cleaned } = cleanedUpStream();
    const ended = stream.drainTo({
      take: () => {
        throw new Error('cannot write');
      },
    });
    void push(1);
    await expect(ended).rejects.toThrow('cannot write');
    await new Promise((r) => setImmediate(r));
    expect(cleaned()).toBe(true);
  });
});
