import { randomUUID } from 'node:crypto';
import type { Message } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { sharedTestKey } from './api-keys.js';
import { env } from './cdc.js';

/**
 * The console tests' data: `count` telemetry events posted through the Telemetry API
 * in one batch, the first `forUser` of them for `userId` (the rest for userId + 1, so
 * that a filter on the user has a known answer among other events). Returns the
 * user's event uuids.
 */
export async function postEvents(userId: number, count: number, forUser: number): Promise<string[]> {
  const uuids: string[] = [];
  const events = Array.from({ length: count }, (_, i) => {
    const uuid = randomUUID();
    if (i < forUser) uuids.push(uuid);
    return {
      event_uuid: uuid,
      user_id: i < forUser ? userId : userId + 1,
      prosthesis_type: i % 2 ? 'myoelectric_hand' : 'body_powered_arm',
      muscle_group: 'forearm_flexors',
      signal_frequency: 1000,
      signal_duration: 250,
      signal_amplitude: 0.25 + (i % 20) / 20,
      event_timestamp: new Date().toISOString(),
    };
  });
  const res = await fetch(`http://127.0.0.1:${env.TELEMETRY_API_PORT}/telemetry-events/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await sharedTestKey()).headers },
    body: JSON.stringify({ events }),
  });
  if (res.status !== 200) throw new Error(`posting the console tests' events: ${res.status} ${await res.text()}`);
  return uuids;
}

/**
 * A one-partition topic of its own (named like a dead-letter topic) holding `messages`, for `fn`; deleted afterwards
 * whatever happens. Returns the topic's name.
 */
export async function withTopic(prefix: string, messages: Message[], fn: (topic: string) => Promise<void>): Promise<string> {
  const topic = `${prefix}-${randomUUID()}.dlq`;
  const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, prefix);
  const admin = kafka.admin();
  const producer = kafka.producer();
  await Promise.all([admin.connect(), producer.connect()]);
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await producer.send({ topic, messages });
    await fn(topic);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await Promise.allSettled([admin.disconnect(), producer.disconnect()]);
  }
  return topic;
}
