// kafkajs ships its sources; the reader (reader.ts) uses three of its modules that the
// package's types do not describe.
declare module 'kafkajs/src/cluster/index.js' {
  const Cluster: new (options: Record<string, unknown>) => KafkajsCluster;
  export default Cluster;
  export interface KafkajsBroker {
    connectionPool: { send(r: KafkajsProtocolRequest): Promise<unknown> };
    fetch(request: {
      replicaId: number;
      isolationLevel: number;
      maxWaitTime: number;
      minBytes: number;
      maxBytes: number;
      topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
    }): Promise<{
      responses: {
        topicName: string;
        partitions: { partition: number; errorCode: number; highWatermark: string; lastStartOffset: string; messages: KafkajsRecord[] }[];
      }[];
    }>;
  }
  export interface KafkajsRecord {
    offset: string;
    timestamp: string;
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, Buffer | Buffer[] | undefined>;
    isControlRecord?: boolean;
    size?: number;
  }
  export interface KafkajsProtocolRequest {
    request: { apiKey: number; apiVersion: number; apiName: string; encode(): Promise<unknown> };
    response: { decode(raw: Buffer): Promise<unknown>; parse(decoded: unknown): Promise<unknown> };
  }
  export interface KafkajsCluster {
    targetTopics: Set<string>;
    getNodeIds(): number[];
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    addTargetTopic(topic: string): Promise<void>;
    refreshMetadata(): Promise<void>;
    findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
    findBroker(opts: { nodeId: string }): Promise<KafkajsBroker>;
  }
}
declare module 'kafkajs/src/loggers/index.js' {
  export const LEVELS: Record<'NOTHING' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG', number>;
  export function createLogger(opts: { level: number; logCreator: unknown }): unknown;
}
declare module 'kafkajs/src/network/socketFactory.js' {
  const socketFactory: () => unknown;
  export default socketFactory;
}
declare module 'kafkajs/src/protocol/encoder.js' {
  export default class Encoder {
    writeInt32(v: number): Encoder;
  }
}
declare module 'kafkajs/src/protocol/decoder.js' {
  export default class Decoder {
    constructor(buf: Buffer);
    readInt16(): number;
    readInt32(): number;
    readInt64(): { toString(): string };
    readString(): string;
    readBoolean(): boolean;
    readArray<T>(reader: (d: Decoder) => T): T[];
  }
}
