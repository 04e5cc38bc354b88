/**
 * A boolean fact over virtual time (a node is up, a sentinel can reach it…), kept as its change points so
 * that an invariant can ask whether it held throughout a window, not only whether it holds now.
 */
export class Timeline {
  readonly #at: number[] = [];
  readonly #value: boolean[] = [];

  constructor(initial: boolean, start: number) {
    this.#at.push(start);
    this.#value.push(initial);
  }

  set(at: number, value: boolean): void {
    const last = this.#value.length - 1;
    if (this.#value[last] === value) return;
    if (this.#at[last] === at) {
      // Two changes at one instant: the later one is what holds from then on.
      this.#value[last] = value;
      if (last > 0 && this.#value[last - 1] === value) {
        this.#at.pop();
        this.#value.pop();
      }
      return;
    }
    this.#at.push(at);
    this.#value.push(value);
  }

  get current(): boolean {
    return this.#value[this.#value.length - 1] as boolean;
  }

  valueAt(t: number): boolean {
    let i = this.#at.length - 1;
    while (i > 0 && (this.#at[i] as number) > t) i -= 1;
    return this.#value[i] as boolean;
  }

  /** True if the fact held at every instant of [from, to]. */
  throughout(from: number, to: number): boolean {
    for (let i = this.#at.length - 1; i >= 0; i -= 1) {
      const at = this.#at[i] as number;
      if (at > to) continue;
      if (!this.#value[i]) return false;
      if (at <= from) return true;
    }
    return false;
  }

  /** True if the fact never held at any instant of [from, to]. */
  never(from: number, to: number): boolean {
    for (let i = this.#at.length - 1; i >= 0; i -= 1) {
      const at = this.#at[i] as number;
      if (at > to) continue;
      if (this.#value[i]) return false;
      if (at <= from) return true;
    }
    return true;
  }
}
