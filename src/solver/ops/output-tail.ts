/** Keeps the last N lines of a step's output, for error messages. */
export class OutputTail {
  #lines: string[] = [];
  #partial = '';
  constructor(readonly max: number) {}

  push(chunk: Uint8Array | string): void {
    const text = this.#partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    this.#lines.push(...parts);
    if (this.#lines.length > this.max) this.#lines.splice(0, this.#lines.length - this.max);
  }

  lines(): string[] {
    const all = this.#partial ? [...this.#lines, this.#partial] : [...this.#lines];
    return all.slice(-this.max);
  }
}
