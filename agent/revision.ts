/**
 * How a part of the agent tells the change feed that something it reports
 * moved: `mark()` on every change (a field write, nothing more, so it can sit
 * on busy paths), and a revision that grows at the first read after a change.
 * Any number of readers compare `value()` with the revision they last saw;
 * reading consumes nothing. `taken()` is the single-reader form tests use.
 */
export class Revision {
  #pending = false;
  #value = 0;
  #taken = 0;

  mark(): void {
    this.#pending = true;
  }

  value(): number {
    if (this.#pending) {
      this.#pending = false;
      this.#value++;
    }
    return this.#value;
  }

  /** True when the revision moved since the previous call of this method. */
  taken(): boolean {
    const value = this.value();
    const moved = value !== this.#taken;
    this.#taken = value;
    return moved;
  }
}
