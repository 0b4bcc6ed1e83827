import { pushIterator } from '../../src/shared/push-iterator';

describe('pushIterator', () => {
  it('delivers pushed values in order, including those pushed before they were asked for', async () => {
    const it = pushIterator<number>(async (push, stop) => {
      void push(1);
      void push(2);
      setTimeout(() => void push(3), 5);
      await stop;
    });
    expect((await it.next()).value).toBe(1);
    expect((await it.next()).value).toBe(2);
    expect((await it.next()).value).toBe(3);
    await it.return!();
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('runs the executor\'s clean-up when the consumer returns', async () => {
    let cleaned = false;
    const it = pushIterator<number>(async (_push, stop) => {
      await stop;
      cleaned = true;
    });
    const pending = it.next();
    await it.return!();
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
    const tick = () => new Promise((r) => setTimeout(r, 5));
    expect((await it.next()).value).toBe(1);
    await tick();
    expect(log).toEqual(['1 taken']);
    expect((await it.next()).value).toBe(2);
    await tick();
    expect(log).toEqual(['1 taken', '2 taken']);
    await it.return!();
  });
});

describe('PushStream.pipe (push mode)', () => {
  it('hands values to the sink in order, holding later ones while a returned promise is pending, then ends', async () => {
    const seen: number[] = [];
    let release!: () => void;
    let ended: unknown = 'not yet';
    let push!: (v: number) => Promise<void>;
    let stop!: (error?: unknown) => void;
    const it = pushIterator<number>(async (p, s) => {
      push = p;
      stop = s;
      await s;
    });
    it.pipe({
      next(v) {
        seen.push(v);
        if (v === 1) return new Promise<void>((r) => (release = r));
      },
      end(error) {
        ended = error;
      },
    });
    void push(1);
    void push(2);
    void push(3);
    expect(seen).toEqual([1]);
    release();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([1, 2, 3]);
    stop();
    expect(ended).toBeUndefined();
  });

  it('ends the sink with the error a stream fails with', async () => {
    let ended: unknown;
    const it = pushIterator<number>(async () => {
      throw new Error('boom');
    });
    it.pipe({ next() {}, end: (error) => (ended = error) });
    await new Promise((r) => setImmediate(r));
    expect((ended as Error).message).toBe('boom');
  });
});
