/**
 * Scripted output of the memory backend: a spec's `output` resolved into the
 * parts each attempt emits, by ms after the attempt started.
 */
import { outputInputProblem } from '../contract/output';
import type { JobOutputInput } from '../contract/types';
import { copy } from './memoryEntry';
import type { JobSpec } from './memoryTypes';

/** One resolved output part of a script: emitted `offsetMs` after the attempt started. */
export interface ScriptedOutput {
  /** ms after the attempt started. */
  offsetMs: number;
  /** The part, as `appendOutput` takes it. */
  part: JobOutputInput;
}

/**
 * Splits text into word-ish tokens as a language model streams them: each word
 * with the whitespace before it (`"Once upon"` → `"Once"`, `" upon"`); trailing
 * whitespace stays with the last token. The tokens join back to `text` exactly.
 */
export function textTokens(text: string): string[] {
  if (text === '') return [];
  const tokens = text.match(/\s*\S+/g) ?? [];
  const rest = text.slice(tokens.join('').length);
  if (tokens.length === 0) return [rest];
  tokens[tokens.length - 1] += rest;
  return tokens;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Resolves `spec.output` against `runningMs` (the attempt's running time), in time
 * order (parts at the same time keep their order). Throws `RangeError` naming the
 * field for a bad spec: output without `runningMs`, a part `outputInputProblem`
 * refuses, an `atMs` outside `0..runningMs`, or a `tokensPerSecond` that is not above 0.
 */
export function toOutputScript(spec: JobSpec): ScriptedOutput[] {
  const { output } = spec;
  if (output === undefined) return [];
  const runningMs = spec.runningMs;
  if (runningMs === undefined) throw new RangeError('JobSpec.output needs runningMs: output is emitted while an attempt runs');

  if (Array.isArray(output)) {
    const resolved = output.map((item: unknown, i): ScriptedOutput => {
      if (!isRecord(item)) throw new RangeError(`JobSpec.output[${i}] must be an object { atMs, part }`);
      const { atMs, part } = item;
      if (typeof atMs !== 'number' || !(atMs >= 0 && atMs <= runningMs)) {
        throw new RangeError(`JobSpec.output[${i}].atMs must be from 0 to runningMs (${runningMs}), got ${String(atMs)}`);
      }
      const problem = outputInputProblem(part);
      if (problem !== null) throw new RangeError(`JobSpec.output[${i}].part: ${problem}`);
      return { offsetMs: Math.round(atMs), part: copy(part as JobOutputInput) };
    });
    // A stable sort: parts given for the same time keep their order.
    return resolved.sort((a, b) => a.offsetMs - b.offsetMs);
  }

  if (!isRecord(output) || typeof output.text !== 'string') {
    throw new RangeError('JobSpec.output must be { text, tokensPerSecond? } or an array of { atMs, part }');
  }
  const { text, tokensPerSecond } = output;
  if (tokensPerSecond !== undefined && !(typeof tokensPerSecond === 'number' && tokensPerSecond > 0 && Number.isFinite(tokensPerSecond))) {
    throw new RangeError(`JobSpec.output.tokensPerSecond must be a finite number above 0, got ${String(tokensPerSecond)}`);
  }
  const tokens = textTokens(text);
  return tokens.map((token, i) => {
    const offset = tokensPerSecond === undefined ? (i * runningMs) / tokens.length : Math.min(runningMs, (i * 1000) / tokensPerSecond);
    const part: JobOutputInput = { kind: 'text', text: token };
    const problem = outputInputProblem(part);
    if (problem !== null) throw new RangeError(`JobSpec.output.text: token ${i + 1}: ${problem}`);
    return { offsetMs: Math.round(offset), part };
  });
}
