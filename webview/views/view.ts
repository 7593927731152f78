import type { Commands, VsCodeApi } from '../host';
import type { Store } from '../state';

/** What every tab's view gets. */
export interface Ctx {
  store: Store;
  commands: Commands;
  api: VsCodeApi;
  /** Opens an endpoint's detail (switches to the Endpoints tab). */
  openEndpoint(id: string): void;
  /** Asks for a render on the next animation frame. */
  invalidate(): void;
}

/** A tab's content. `render` runs inside requestAnimationFrame, only while the tab is shown. */
export interface View {
  readonly el: HTMLElement;
  render(): void;
}

/** Remembers revisions so a view can skip work when nothing it shows changed. */
export class Revs {
  private seen = new Map<string, number>();
  /** True (and records it) when any of the given revisions differs from the last call. */
  changed(values: Record<string, number>): boolean {
    let changed = false;
    for (const [k, v] of Object.entries(values)) {
      if (this.seen.get(k) !== v) {
        this.seen.set(k, v);
        changed = true;
      }
    }
    return changed;
  }
}
