import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadStackConfig } from '../scripts/stack/config.js';
import { components, up } from '../scripts/stack/stack.js';

/**
 * Nothing of the native stack is reachable from another machine: every socket that a
 * component's processes listen on (Kafka and its controller, Connect's REST API, the
 * registry, ClickHouse, PostgreSQL, the apps, and anything else they might open: a
 * JVM's debug or management port) is bound to a loopback address. Read from the
 * kernel (/proc), not from the configuration.
 */

interface Listener {
  address: string;
  port: number;
}

/** LISTEN sockets by inode, from /proc/net/tcp and tcp6 (addresses in the kernel's hex). */
function listeners(): Map<string, Listener> {
  const out = new Map<string, Listener>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue;
      const [hex, port] = f[1]!.split(':') as [string, string];
      out.set(f[9]!, { address: decode(hex), port: parseInt(port, 16) });
    }
  }
  return out;
}

function decode(hex: string): string {
  if (hex.length === 8) return [0, 1, 2, 3].map((i) => parseInt(hex.slice(6 - 2 * i, 8 - 2 * i), 16)).join('.');
  // IPv6: four 32-bit words, each little-endian.
  const words = [0, 1, 2, 3].map((w) => hex.slice(w * 8, w * 8 + 8).match(/../g)!.reverse().join(''));
  return words.join('').match(/.{4}/g)!.join(':');
}

// 127.0.0.0/8, ::1, and 127.x as an IPv4-mapped IPv6 address (::ffff:7f00:1, how a JVM binds it).
const LOOPBACK = (a: string) =>
  a.startsWith('127.') || a === '0000:0000:0000:0000:0000:0000:0000:0001' || /^0000:0000:0000:0000:0000:FFFF:7F/i.test(a);

function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...(children.get(all[i]!) ?? []));
  return all;
}

function socketInodes(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        return m ? [m[1]!] : [];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

describe('the native stack listens on loopback only', () => {
  it('every listening socket of every component is bound to 127.0.0.1 or ::1', async () => {
    const config = loadStackConfig();
    await up(config, ['infrastructure', 'apps']);
    const table = listeners();
    const seen: string[] = [];
    for (const c of components(config)) {
      const pid = c.pid();
      expect(pid, `${c.name} runs`).toBeDefined();
      const mine = descendants(pid!).flatMap(socketInodes).flatMap((inode) => (table.has(inode) ? [table.get(inode)!] : []));
      expect(mine.length, `${c.name} listens somewhere`).toBeGreaterThan(0);
      for (const l of mine) {
        seen.push(`${c.name} ${l.address}:${l.port}`);
        expect(LOOPBACK(l.address), `${c.name} listens on ${l.address}:${l.port}`).toBe(true);
      }
    }
    console.log(`[loopback] ${seen.length} listening sockets: ${[...new Set(seen)].join(', ')}`);
  }, 300_000);
});
