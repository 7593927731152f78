/**
 * Which local files show lenses of which endpoints, kept in step with each
 * agent's snapshots and deltas. A delta costs work in proportion to what it
 * touched (`touchedEndpoints`): figures that changed name the files to
 * refresh; a new, moved or removed endpoint re-anchors only itself. Pure (no
 * vscode): the lens provider feeds it and reads it.
 */
import { type Delta, type EndpointStats, touchedEndpoints } from '../../protocol';
import type { PathMapping } from './discovery';
import { type LensAnchor, lensAnchors } from './lines';

export interface AgentAnchor extends LensAnchor {
  agentId: string;
}

interface Entry {
  /** Where the agent reported the endpoint: a change re-anchors it. */
  locations: string;
  anchors: AgentAnchor[];
}

export class LensIndex {
  /** File key → anchors in that file. */
  private readonly byFile = new Map<string, AgentAnchor[]>();
  /** Agent id → endpoint id → its anchors. */
  private readonly agents = new Map<string, Map<string, Entry>>();
  private mappings: readonly PathMapping[] = [];

  /** `fileKey` normalises a path (e.g. lower case on Windows). */
  constructor(private readonly fileKey: (file: string) => string = (f) => f) {}

  /** Anchors in a file (by its key). */
  anchorsFor(fileKey: string): readonly AgentAnchor[] {
    return this.byFile.get(fileKey) ?? [];
  }

  /** Agents indexed. */
  agentIds(): string[] {
    return [...this.agents.keys()];
  }

  /** Path mappings changed: the caller re-sets every agent afterwards. */
  setMappings(mappings: readonly PathMapping[]): void {
    this.mappings = mappings;
    for (const id of this.agentIds()) this.removeAgent(id);
  }

  /** Every anchor of an agent from its state (a snapshot). Returns the file keys whose lenses changed. */
  setAgent(agentId: string, endpoints: readonly EndpointStats[]): Set<string> {
    const files = this.removeAgent(agentId);
    const entries = new Map<string, Entry>();
    this.agents.set(agentId, entries);
    for (const e of endpoints) this.add(agentId, entries, e, files);
    return files;
  }

  /** Forgets an agent. Returns the file keys that showed its lenses. */
  removeAgent(agentId: string): Set<string> {
    const files = new Set<string>();
    const entries = this.agents.get(agentId);
    if (!entries) return files;
    this.agents.delete(agentId);
    for (const entry of entries.values()) this.unlink(entry, files);
    return files;
  }

  /**
   * Follows one delta of an agent (after the store applied it). Returns the
   * file keys showing an endpoint the delta touched: only those need new lenses.
   */
  applyDelta(agentId: string, delta: Delta): Set<string> {
    const files = new Set<string>();
    const entries = this.agents.get(agentId);
    if (!entries) return files;
    const upserted = new Map((delta.endpoints ?? []).map((e) => [e.id, e]));
    for (const id of touchedEndpoints(delta)) {
      const e = upserted.get(id);
      const entry = entries.get(id);
      if (e && entry && entry.locations === locationsOf(e)) {
        for (const a of entry.anchors) files.add(this.fileKey(a.file));
        continue;
      }
      if (entry) {
        entries.delete(id);
        this.unlink(entry, files);
      }
      if (e) this.add(agentId, entries, e, files);
    }
    return files;
  }

  private add(agentId: string, entries: Map<string, Entry>, e: EndpointStats, files: Set<string>): void {
    const anchors = lensAnchors([e], this.mappings).map((a): AgentAnchor => ({ ...a, agentId }));
    entries.set(e.id, { locations: locationsOf(e), anchors });
    for (const a of anchors) {
      const key = this.fileKey(a.file);
      files.add(key);
      const list = this.byFile.get(key);
      if (list) list.push(a);
      else this.byFile.set(key, [a]);
    }
  }

  private unlink(entry: Entry, files: Set<string>): void {
    for (const a of entry.anchors) {
      const key = this.fileKey(a.file);
      files.add(key);
      const rest = (this.byFile.get(key) ?? []).filter((x) => x !== a);
      if (rest.length) this.byFile.set(key, rest);
      else this.byFile.delete(key);
    }
  }
}

function locationsOf(e: EndpointStats): string {
  const l = e.location;
  const h = e.handlerLocation;
  return `${l ? `${l.file}:${l.line}` : ''}|${h ? `${h.file}:${h.line}` : ''}`;
}
