/**
 * Route → source line mapping: where each endpoint's code lens goes, and how
 * those lines move while the user edits a file before the server restarts.
 * Pure: the extension feeds it vscode's content changes as plain objects.
 */
import type { EndpointStats, SourceLocation } from '../../protocol';
import { type PathMapping, mapRemotePath } from './discovery';

/** One place a lens goes: 0-based line in a local file, for one endpoint. */
export interface LensAnchor {
  endpointId: string;
  /** Local absolute path. */
  file: string;
  /** 0-based line as the agent reported it. */
  line: number;
  /** 'route' = the registration, 'handler' = the handler function (when elsewhere). */
  kind: 'route' | 'handler';
}

function anchor(e: EndpointStats, loc: SourceLocation, kind: LensAnchor['kind'], mappings: readonly PathMapping[]): LensAnchor {
  return { endpointId: e.id, file: mapRemotePath(loc.file, mappings), line: Math.max(0, loc.line - 1), kind };
}

/** Every lens anchor of a snapshot: each route's registration, and its handler when it is elsewhere. */
export function lensAnchors(endpoints: readonly EndpointStats[], mappings: readonly PathMapping[]): LensAnchor[] {
  const out: LensAnchor[] = [];
  for (const e of endpoints) {
    if (e.location) out.push(anchor(e, e.location, 'route', mappings));
    const h = e.handlerLocation;
    if (h && (!e.location || h.file !== e.location.file || h.line !== e.location.line)) out.push(anchor(e, h, 'handler', mappings));
  }
  return out;
}

/** Groups anchors by local file (normalised with `key`, e.g. lower-cased on Windows). */
export function anchorsByFile(anchors: readonly LensAnchor[], key: (file: string) => string = (f) => f): Map<string, LensAnchor[]> {
  const m = new Map<string, LensAnchor[]>();
  for (const a of anchors) {
    const k = key(a.file);
    const list = m.get(k);
    if (list) list.push(a);
    else m.set(k, [a]);
  }
  return m;
}

/** A text edit as vscode reports it: the replaced range (0-based, pre-edit) and the new text. */
export interface TextChange {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
  text: string;
}

/**
 * Where a tracked line is after one change. Lines above the change stay; lines
 * below move by the number of lines added or removed; a line inside a replaced
 * range goes to where the replacement starts. Text inserted at column 0 of the
 * tracked line pushes it down.
 */
export function shiftLine(line: number, c: TextChange): number {
  const added = countNewlines(c.text);
  const delta = added - (c.endLine - c.startLine);
  if (line < c.startLine) return line;
  if (line > c.endLine) return line + delta;
  // line is within [startLine, endLine]
  if (c.startLine === c.endLine && line === c.startLine) {
    // Inserting whole lines at the start of the tracked line moves it down.
    if (c.startCharacter === 0 && c.endCharacter === 0 && c.text.endsWith('\n')) return line + delta;
    return line;
  }
  if (line === c.startLine) return line;
  // Inside a multi-line replaced range: if the range ended at column 0 of this line, only what is before moved.
  if (line === c.endLine && c.endCharacter === 0) return line + delta;
  return c.startLine + (c.startCharacter === 0 && c.text.endsWith('\n') ? added : 0);
}

/** Applies one event's changes (ranges refer to the pre-edit document) to a tracked line. */
export function shiftLineForChanges(line: number, changes: readonly TextChange[]): number {
  // Apply bottom-up: a change below does not move the coordinates of one above it.
  const sorted = [...changes].sort((a, b) => b.startLine - a.startLine || b.startCharacter - a.startCharacter);
  let l = line;
  for (const c of sorted) l = shiftLine(l, c);
  return Math.max(0, l);
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Per open document: the current line of each anchor, moved by edits and
 * reset to the agent's lines when a new snapshot arrives (server restart).
 */
export class LineTracker {
  private readonly docs = new Map<string, Map<string, number>>();

  /** Current line for an anchor in a document. */
  lineOf(docKey: string, a: LensAnchor): number {
    return this.docs.get(docKey)?.get(anchorId(a)) ?? a.line;
  }

  /** Moves every anchor of the document by an edit. */
  onEdit(docKey: string, anchors: readonly LensAnchor[], changes: readonly TextChange[]): void {
    if (!changes.length || !anchors.length) return;
    let m = this.docs.get(docKey);
    if (!m) {
      m = new Map();
      this.docs.set(docKey, m);
    }
    for (const a of anchors) {
      const id = anchorId(a);
      m.set(id, shiftLineForChanges(m.get(id) ?? a.line, changes));
    }
  }

  /** Forgets edits (new snapshot: the agent's lines are current again; or the document closed). */
  reset(docKey?: string): void {
    if (docKey === undefined) this.docs.clear();
    else this.docs.delete(docKey);
  }

  get trackedDocuments(): number {
    return this.docs.size;
  }
}

function anchorId(a: LensAnchor): string {
  return `${a.kind}\u0000${a.endpointId}\u0000${a.line}`;
}
