import { randomUUID } from 'node:crypto';
import { createKafka, type KafkaAccess } from '@cdc/kafka';

/**
 * Consumer groups a test creates for its own reading (a check consumer, a private
 * processor, a ClickHouse Kafka table), remembered per test file so that its afterAll
 * removes them: a test leaves no group behind (tests/setup/stack.ts fails the run
 * otherwise).
 */
const groups = new Set<string>();

/** A fresh group id, `<prefix>-<uuid>`, removed by deleteTestGroups(). */
export function testGroupId(prefix: string): string {
  const id = `${prefix}-${randomUUID()}`;
  groups.add(id);
  return id;
}

/** Registers groups whose names a test chose itself (a private processor's, say). */
export function rememberTestGroups(...ids: string[]): void {
  for (const id of ids) groups.add(id);
}

/**
 * Deletes every remembered group. A group whose member has not left yet (a consumer
 * just disconnected; chDB's Kafka engine never leaves, its member expires after the
 * 45 s session timeout) is tried again until it is empty.
 */
export async function deleteTestGroups(access: KafkaAccess, timeoutMs = 90_000): Promise<void> {
  if (groups.size === 0) return;
  const admin = createKafka({ ...access, logLevel: 'silent' }, 'test-groups').admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
      const left = [...groups].filter((g) => existing.has(g));
      if (left.length === 0) break;
      await admin.deleteGroups(left).catch(() => {});
      if (Date.now() > deadline) throw new Error(`consumer groups still not deletable after ${timeoutMs / 1000} s: ${left.join(', ')}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    groups.clear();
  } finally {
    await admin.disconnect();
  }
}
