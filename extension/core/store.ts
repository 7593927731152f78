/**
 * One agent's state: the last snapshot with every delta since applied by the
 * change feed's rules (protocol/feed.ts), plus an index id → endpoint. Pure.
 * Each connection owns its own store, so figures are never mixed between agents.
 * It also keeps the request totals it saw, for the "now" rate (protocol/rate.ts).
 */
import { type BaselineComparison, type BaselineDelta, type Delta, type EndpointStats, type FeedState, type Snapshot, applyDelta, endpointIndex, stateFromSnapshot, updateEndpointIndex } from '../../protocol';
import { NowRate, requestTotal } from '../../protocol/rate';

export class AgentStore {
  private current: FeedState | undefined;
  private byId = new Map<string, EndpointStats>();
  private lastSeq = -1;
  /** Increments on every full snapshot (a restart or resync): line trackers re-sync on it. */
  generation = 0;
  private readonly now = new NowRate();
  private comparison: BaselineComparison | undefined;
  private baselineById = new Map<string, BaselineDelta>();

  /** The agent's state: a Snapshot, plus the recent cache events the stream carried. */
  get snapshot(): FeedState | undefined {
    return this.current;
  }

  /**
   * Starts over from a snapshot. A resync of the same agent (same pid and
   * start time) keeps the cache events already received; they are not in a
   * snapshot.
   */
  setSnapshot(snapshot: Snapshot, seq: number): void {
    const prev = this.current;
    const sameAgent = prev !== undefined && prev.agent.pid === snapshot.agent.pid && prev.agent.startedAt === snapshot.agent.startedAt;
    this.current = stateFromSnapshot(snapshot, sameAgent ? prev : undefined);
    this.byId = endpointIndex(this.current.endpoints);
    if (!sameAgent) this.now.clear();
    this.now.add(this.current.time, requestTotal(this.current.endpoints));
    this.lastSeq = seq;
    this.generation++;
  }

  /**
   * Applies a delta. A delta older than the snapshot is ignored ('stale').
   * A skipped sequence number is applied anyway and reported as 'gap' (deltas
   * carry whole objects, and the agent sends a fresh snapshot to a client
   * that fell behind); the client counts gaps for diagnostics.
   */
  applyDelta(delta: Delta, seq: number): 'applied' | 'gap' | 'stale' | 'no-snapshot' {
    if (!this.current) return 'no-snapshot';
    if (seq <= this.lastSeq) return 'stale';
    const gap = seq !== this.lastSeq + 1;
    this.current = applyDelta(this.current, delta);
    updateEndpointIndex(this.byId, delta);
    this.now.add(delta.time, requestTotal(this.byId.values()));
    this.lastSeq = seq;
    return gap ? 'gap' : 'applied';
  }

  /** Requests per second over the last few seconds (`NOW_WINDOW_MS`), undefined until a second of deltas came. */
  get nowRate(): number | undefined {
    return this.now.perSecond();
  }

  /** The live figures against the baseline, as the agent last answered `baseline.compare` (extension/core/baseline.ts). */
  get baseline(): BaselineComparison | undefined {
    return this.comparison;
  }

  setBaseline(comparison: BaselineComparison | undefined): void {
    this.comparison = comparison;
    this.baselineById = new Map((comparison?.endpoints ?? []).map((d) => [d.endpoint, d]));
  }

  /** One endpoint's comparison, if the baseline holds it. */
  baselineOf(id: string): BaselineDelta | undefined {
    return this.baselineById.get(id);
  }

  endpoint(id: string): EndpointStats | undefined {
    return this.byId.get(id);
  }

  clear(): void {
    this.current = undefined;
    this.byId = new Map();
    this.lastSeq = -1;
    this.now.clear();
    this.setBaseline(undefined);
  }
}
