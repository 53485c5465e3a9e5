/**
 * The part of an Aedes persistence (aedes-persistence 11) that holds the QoS 1/2 messages queued for persistent
 * sessions: `outgoingEnqueue*` adds, `outgoingClearMessageId` removes (on PUBACK/PUBCOMP, or when a session is
 * resumed clean), `outgoingUpdate` assigns the packet identifier when a message is sent.
 */
export interface SessionQueuePersistence {
  outgoingEnqueue: (sub: { clientId: string }, packet: QueuedPacket) => Promise<void>;
  outgoingEnqueueCombi: (subs: Array<{ clientId: string }>, packet: QueuedPacket) => Promise<void>;
  outgoingUpdate: (client: { id: string }, packet: QueuedPacket) => Promise<void>;
  outgoingClearMessageId: (client: { id: string }, packet: { messageId?: number }) => Promise<QueuedPacket | undefined>;
}

export interface QueuedPacket {
  brokerId?: string;
  brokerCounter?: number;
  messageId?: number;
}

export interface SessionQueueCapOptions {
  /** Messages one session's queue may hold; beyond it the oldest is dropped. */
  maxMessagesPerSession: number;
  /** Called once per dropped message. */
  onDrop: (clientId: string) => void;
}

/** Not a valid MQTT packet identifier (1..65535): marks the message being dropped. */
const DROPPING = -1;

/**
 * Bounds every persistent session's queue. Aedes queues each QoS 1/2 message for every clean=false subscription it
 * matches, offline or not, with no limit and no session expiry (NOTES.md): an operator console that subscribed to
 * alerts and never came back would grow the broker forever.
 *
 * The persistence's queue is private, so the cap keeps its own index of each session's queued messages (by
 * `brokerId` + `brokerCounter`, which identify a message on one broker) in arrival order. To drop the oldest it
 * marks that message with an impossible packet identifier (`outgoingUpdate`) and clears it by that identifier,
 * through the persistence's own API: it works for any persistence that implements the interface.
 *
 * Patches `persistence` in place and returns it, so Aedes' own checks on the object (its `setup` being an async
 * function, `cleanIncoming` being present) still see the original.
 */
export function capSessionQueues<P extends SessionQueuePersistence>(persistence: P, options: SessionQueueCapOptions): P {
  const { maxMessagesPerSession, onDrop } = options;
  const queues = new Map<string, Map<string, QueuedPacket>>();
  const keyOf = (packet: QueuedPacket) => `${packet.brokerId}:${packet.brokerCounter}`;

  const enqueue = persistence.outgoingEnqueue.bind(persistence);
  const enqueueCombi = persistence.outgoingEnqueueCombi.bind(persistence);
  const update = persistence.outgoingUpdate.bind(persistence);
  const clear = persistence.outgoingClearMessageId.bind(persistence);

  async function dropOldest(clientId: string, queue: Map<string, QueuedPacket>): Promise<void> {
    const [key, oldest] = queue.entries().next().value!;
    queue.delete(key);
    const client = { id: clientId };
    try {
      await update(client, { brokerId: oldest.brokerId, brokerCounter: oldest.brokerCounter, messageId: DROPPING });
      await clear(client, { messageId: DROPPING });
      onDrop(clientId);
    } catch {
      // Already gone (acknowledged meanwhile): nothing was dropped.
    }
  }

  async function queued(clientId: string, packet: QueuedPacket): Promise<void> {
    let queue = queues.get(clientId);
    if (queue === undefined) queues.set(clientId, (queue = new Map<string, QueuedPacket>()));
    queue.set(keyOf(packet), { brokerId: packet.brokerId, brokerCounter: packet.brokerCounter });
    while (queue.size > maxMessagesPerSession) await dropOldest(clientId, queue);
  }

  persistence.outgoingEnqueue = async (sub, packet) => {
    await enqueue(sub, packet);
    await queued(sub.clientId, packet);
  };
  persistence.outgoingEnqueueCombi = async (subs, packet) => {
    await enqueueCombi(subs, packet);
    for (const sub of subs) await queued(sub.clientId, packet);
  };
  persistence.outgoingClearMessageId = async (client, packet) => {
    const removed = await clear(client, packet);
    const queue = queues.get(client.id);
    if (removed !== undefined && queue !== undefined) {
      queue.delete(keyOf(removed));
      if (queue.size === 0) queues.delete(client.id);
    }
    return removed;
  };
  return persistence;
}
