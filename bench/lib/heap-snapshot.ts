/** V8 heap snapshots (.heapsnapshot JSON), read by the heap command and the server children. */

/** What the readers here use of a snapshot: its nodes, laid out as `meta.node_fields` says. */
export interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Calls `each` with every node's type, name and self size (bytes). */
export function eachNode(snap: HeapSnapshot, each: (type: string, name: string, selfSize: number) => void): void {
  const f = snap.snapshot.meta.node_fields;
  const width = f.length;
  const [typeAt, nameAt, sizeAt] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const types = snap.snapshot.meta.node_types[0];
  for (let i = 0; i < snap.nodes.length; i += width) each(types[snap.nodes[i + typeAt]!]!, snap.strings[snap.nodes[i + nameAt]!]!, snap.nodes[i + sizeAt]!);
}
