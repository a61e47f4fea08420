/**
 * The text of `EXPLAIN QUERY TREE` (one row per line) as a tree of nodes. The
 * engine prints names raw, so a name holding a line break could forge lines; the
 * access check refuses such names before asking (src/access.ts), and this
 * reader also refuses any dump whose shape is not the engine's own: every line a
 * node, a section header or a projection column, ids first mentioned in order
 * and printed again only verbatim, every LIST and projection as long as it says.
 */

export interface TreeNode {
  /** `QUERY`, `TABLE`, `COLUMN`, … for nodes; the header itself (`JOIN TREE`, `ARGUMENTS`, …) for sections. */
  readonly kind: string;
  /** Set for nodes, undefined for section headers and projection columns. */
  readonly id: number | undefined;
  /** What follows `id: N, ` on a node's line (or a projection column's `name Type`). */
  readonly text: string;
  readonly children: TreeNode[];
}

const NODE = /^([A-Z][A-Z_]*(?: [A-Z][A-Z_]*)*) id: (\d+)(?:, (.*))?$/;
// A section: upper-case words, sometimes followed by what it is about
// (`EXPRESSION email` under a SORT, `SETTINGS max_threads=2`).
const HEADER = /^([A-Z][A-Z_]*(?: [A-Z][A-Z_]*)*)(?: (.*))?$/;

export class MalformedTreeError extends Error {
  override name = 'MalformedTreeError';
}

function fail(line: number, why: string): never {
  throw new MalformedTreeError(`EXPLAIN QUERY TREE line ${line + 1}: ${why}`);
}

/** Parses the dump; throws MalformedTreeError if it is not exactly the engine's shape. */
export function parseQueryTree(lines: readonly string[]): TreeNode[] {
  const roots: TreeNode[] = [];
  const stack: Array<{ depth: number; node: TreeNode }> = [];
  const printed = new Map<number, string>();
  const mentioned = new Set<number>();
  // The engine numbers nodes as it first mentions them: in order, none skipped.
  const mention = (id: number, n: number): void => {
    if (mentioned.has(id)) return;
    if (id !== mentioned.size) fail(n, `id ${id} out of order`);
    mentioned.add(id);
  };

  lines.forEach((raw, n) => {
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (line === '' || indent % 2 !== 0) fail(n, 'not indented as the engine indents');
    const depth = indent / 2;
    while (stack.length > 0 && (stack.at(-1) as { depth: number }).depth >= depth) stack.pop();
    const parent = stack.at(-1);
    if ((parent ? parent.depth + 1 : 0) !== depth) fail(n, 'skips a level');

    let node: TreeNode;
    const m = NODE.exec(line);
    if (parent?.node.kind === 'PROJECTION COLUMNS') {
      node = { kind: 'PROJECTION COLUMN', id: undefined, text: line, children: [] };
    } else if (m) {
      const id = Number(m[2]);
      const text = m[3] ?? '';
      mention(id, n);
      // A column names its source by id, which then counts as mentioned.
      const source = /, source_id: (\d+)$/.exec(text);
      if (source) mention(Number(source[1]), n);
      const before = printed.get(id);
      if (before === undefined) printed.set(id, `${m[1]} ${text}`);
      else if (before !== `${m[1]} ${text}`) fail(n, `id ${id} printed twice differently`);
      node = { kind: m[1] as string, id, text, children: [] };
    } else if (line.startsWith('SETTINGS ')) {
      node = { kind: 'SETTINGS', id: undefined, text: line.slice('SETTINGS '.length), children: [] };
    } else if (HEADER.test(line)) {
      const h = HEADER.exec(line) as RegExpExecArray;
      node = { kind: h[1] as string, id: undefined, text: h[2] ?? '', children: [] };
    } else {
      fail(n, 'neither a node nor a section');
    }
    (parent ? parent.node.children : roots).push(node);
    stack.push({ depth, node });
  });

  for (const r of roots) checkCounts(r);
  return roots;
}

function listLength(node: TreeNode): number | undefined {
  const m = /(?:^|, )nodes: (\d+)$/.exec(node.text);
  return m ? Number(m[1]) : undefined;
}

/** LISTs hold as many nodes as they say, and a projection names as many columns as it computes. */
function checkCounts(node: TreeNode): void {
  if (node.kind === 'LIST') {
    const n = node.children.filter((c) => c.id !== undefined).length;
    if (listLength(node) !== n) throw new MalformedTreeError(`LIST id: ${node.id} holds ${n} nodes, not what it says`);
  }
  const names = node.children.find((c) => c.kind === 'PROJECTION COLUMNS');
  if (names) {
    const list = node.children.find((c) => c.kind === 'PROJECTION')?.children.find((c) => c.kind === 'LIST');
    if (!list || listLength(list) !== names.children.length) {
      throw new MalformedTreeError(`the projection of ${node.kind} id: ${node.id} does not match its column names`);
    }
  }
  for (const c of node.children) checkCounts(c);
}

/** Every node of the tree, depth first, with the chain of its ancestors (nearest last). */
export function* walk(nodes: readonly TreeNode[], ancestors: readonly TreeNode[] = []): Generator<[TreeNode, readonly TreeNode[]]> {
  for (const node of nodes) {
    yield [node, ancestors];
    yield* walk(node.children, [...ancestors, node]);
  }
}
