import { describe, expect, it } from 'vitest';
import aedesPersistence from 'aedes-persistence';
import { capSessionQueues, type QueuedPacket, type SessionQueuePersistence } from './cap-session-queues.ts';

// The persistence Aedes uses by default (see create-client-limiter.ts for the cast).
type MemoryPersistence = SessionQueuePersistence & { outgoingStream(client: { id: string }): AsyncIterable<QueuedPacket & { payload: Buffer }> };
const memoryPersistence = aedesPersistence as unknown as () => MemoryPersistence;

let counter = 0;
const message = (text: string) => ({ cmd: 'publish', topic: 'city/v1/alerts/high/a/b', payload: Buffer.from(text), qos: 1, brokerId: 'b1', brokerCounter: ++counter });

async function queued(persistence: MemoryPersistence, id: string): Promise<string[]> {
  const texts: string[] = [];
  for await (const packet of persistence.outgoingStream({ id })) texts.push(packet.payload.toString());
  return texts;
}

describe('capSessionQueues', () => {
  it('keeps the newest messages of each session and counts every drop', async () => {
    const dropped: string[] = [];
    const persistence = capSessionQueues(memoryPersistence(), { maxMessagesPerSession: 3, onDrop: (id) => dropped.push(id) });
    for (const text of ['1', '2', '3', '4', '5']) await persistence.outgoingEnqueueCombi([{ clientId: 'console-a' }, { clientId: 'console-b' }], message(text));
    await persistence.outgoingEnqueue({ clientId: 'console-b' }, message('6'));
    expect(await queued(persistence, 'console-a')).toEqual(['3', '4', '5']);
    expect(await queued(persistence, 'console-b')).toEqual(['4', '5', '6']);
    expect(dropped).toEqual(['console-a', 'console-b', 'console-a', 'console-b', 'console-b']);
  });

  it('makes room again as messages are acknowledged', async () => {
    let drops = 0;
    const persistence = capSessionQueues(memoryPersistence(), { maxMessagesPerSession: 2, onDrop: () => drops++ });
    const [a, b] = [message('a'), message('b')];
    await persistence.outgoingEnqueue({ clientId: 'c' }, a);
    await persistence.outgoingEnqueue({ clientId: 'c' }, b);
    // sent with packet id 7, then PUBACK 7
    await persistence.outgoingUpdate({ id: 'c' }, { ...a, messageId: 7 });
    expect(await persistence.outgoingClearMessageId({ id: 'c' }, { messageId: 7 })).toMatchObject({ brokerCounter: a.brokerCounter });
    await persistence.outgoingEnqueue({ clientId: 'c' }, message('c'));
    expect(await queued(persistence, 'c')).toEqual(['b', 'c']);
    expect(drops).toBe(0);
  });
});
