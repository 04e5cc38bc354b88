/**
 * One schedule's trace: every line it records goes into a hash (two runs of one seed must agree on it),
 * and is kept only when asked (--verbose, a failing seed's replay). Lines start with the virtual time in
 * ms since the start of the run.
 */
import { T0 } from './config.js';
import type { Simulator } from './scheduler.js';

/** 64-bit FNV-1a as two 32-bit lanes: cheap, and plenty to tell two traces apart. */
class TraceHash {
  #a = 0x811c9dc5;
  #b = 0x01000193;
  add(line: string): void {
    let a = this.#a;
    let b = this.#b;
    for (let i = 0; i < line.length; i += 1) {
      const c = line.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
    }
    this.#a = Math.imul(a ^ 10, 0x01000193);
    this.#b = b;
  }
  addNumber(n: number): void {
    this.#a = Math.imul(this.#a ^ (n | 0), 0x01000193);
    this.#b = Math.imul(this.#b ^ ((n / 4_294_967_296) | 0) ^ (n | 0), 0x5bd1e995) ^ (this.#b >>> 13);
  }
  hex(): string {
    return (this.#a >>> 0).toString(16).padStart(8, '0') + (this.#b >>> 0).toString(16).padStart(8, '0');
  }
}

export class Trace {
  readonly #hash = new TraceHash();
  /** The lines, when kept (empty otherwise). */
  readonly lines: string[] = [];

  constructor(
    readonly sim: Simulator,
    readonly keep: boolean,
  ) {}

  /** Records a line; `hashed` false for the runners' own log lines, which exist only when kept. */
  line(text: string, hashed = true): void {
    const entry = `${this.sim.now - T0} ${text}`;
    if (hashed) this.#hash.add(entry);
    if (this.keep) this.lines.push(entry);
  }

  /** Mixes in a step's time and the store's call count: the hash sees every timer fired. */
  step(storeCalls: number): void {
    this.#hash.addNumber(this.sim.now - T0);
    this.#hash.addNumber(storeCalls);
  }

  get hash(): string {
    return this.#hash.hex();
  }
}
