import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { Client } from 'pg';
import type { ParleyServer } from '../../src/app/server';
import { SendMessageDocument, StartConversationDocument } from '../../src/client/generated';
import { ok } from '../support/clients';
import { TEST_REDIS_URL } from '../support/env';
import { buildConversation, buildUser } from '../support/factories';
import { useInstances } from '../support/server';
import { eventually } from '../support/wait';

// A enqueues only; the workers run in child processes that can be killed.
const setup = useInstances(1, { NOTIFY_WORKER: 'false' });
let a: ParleyServer;
beforeAll(() => ({ a } = setup));

const worker = { NOTIFY_WORKER_CONCURRENCY: '1', NOTIFY_JOB_LOCK_MS: '1500' };

it('processes a job held by a worker killed with SIGKILL exactly once, after a restart', async () => {
  const [alice, bob] = await Promise.all(['alice', 'bob'].map((prefix) => buildUser(a, { prefix })));
  const conversationId = (await buildConversation(a, alice, bob)).id;
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('notifications', { connection, prefix: `${setup.cluster.redisPrefix}bull` });
  const db = new Client({ connectionString: setup.cluster.db.url });
  await db.connect();
  try {
    const count = 40;
    for (let i = 0; i < count; i++) {
      await ok(a, SendMessageDocument, { input: { conversationId, body: `m${i}` } }, alice.token);
    }
    // The worker's insert waits behind this lock, so the job it took stays active until the kill.
    await db.query('BEGIN');
    await db.query('LOCK TABLE notifications IN SHARE MODE');
    const child = await setup.cluster.startChild(worker);
    await eventually(async () => (await queue.getActiveCount()) > 0, 20_000, 'a job held by the worker');
    await child.kill();
    await db.query('COMMIT');

    await setup.cluster.startChild(worker);
    const stored = async () =>
      (
        await db.query<{ message_id: string; n: number }>(
          `SELECT message_id, count(*)::int AS n FROM notifications
            WHERE recipient_id = $1 AND kind = 'NEW_MESSAGE' GROUP BY message_id`,
          [bob.id],
        )
      ).rows;
    await eventually(async () => (await stored()).length === count, 30_000, 'every notification stored');
    expect((await stored()).every((r) => r.n === 1)).toBe(true);
    // The killed worker's job is taken again once its lock expires, and completes.
    await eventually(
      async () => (await queue.getActiveCount()) + (await queue.getWaitingCount()) === 0,
      30_000,
      'the queue drained',
    );
    expect((await stored()).every((r) => r.n === 1)).toBe(true);
  } finally {
    await db.end();
    await queue.close();
    await connection.quit();
  }
}, 90_000);

it('stores each notification once when the same messages and conversation are decided again', async () => {
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((prefix) => buildUser(a, { prefix })));
  const created = await ok(a, StartConversationDocument, { participantIds: [bob.id, carol.id] }, alice.token);
  const conversationId = created.startConversation.id;
  const sent = await ok(a, SendMessageDocument, { input: { conversationId, body: 'once' } }, alice.token);
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('notifications', { connection, prefix: `${setup.cluster.redisPrefix}bull` });
  const db = new Client({ connectionString: setup.cluster.db.url });
  await db.connect();
  const stored = async () =>
    (
      await db.query<{ kind: string; n: number }>(
        `SELECT kind, count(*)::int AS n FROM notifications WHERE conversation_id = $1 GROUP BY kind ORDER BY kind`,
        [conversationId],
      )
    ).rows;
  try {
    await setup.cluster.startChild(worker);
    const once = [
      { kind: 'ADDED_TO_CONVERSATION', n: 2 },
      { kind: 'NEW_MESSAGE', n: 2 },
    ];
    await eventually(async () => JSON.stringify(await stored()) === JSON.stringify(once), 20_000, 'stored once');
    // The same work again under new job ids, as a duplicate event or a redelivery would bring it.
    const message = { messageId: sent.sendMessage.id, conversationId, senderId: alice.id, committedAtMs: Date.now() };
    const jobs = [
      await queue.add('messages', { messages: [message, message] }, { jobId: `again.m.${message.messageId}` }),
      await queue.add(
        'added',
        { conversationId, creatorId: alice.id, participantIds: [alice.id, bob.id, carol.id] },
        { jobId: `again.c.${conversationId}` },
      ),
    ];
    // Completed, not failed and waiting for a retry: the duplicates were skipped, not refused.
    await eventually(async () => (await Promise.all(jobs.map((j) => j.isCompleted()))).every(Boolean), 20_000);
    expect(await stored()).toEqual(once);
  } finally {
    await db.end();
    await queue.close();
    await connection.quit();
  }
}, 60_000);
