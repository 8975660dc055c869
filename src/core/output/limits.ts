import { DEFAULT_STORED_OUTPUT_PARTS } from '../../contract/output';

/**
 * The `maxParts` a watch keeps: a whole number of at least 1, rounded down; anything else
 * (absent, 0, negative, `NaN`, `Infinity`) is the default, `DEFAULT_STORED_OUTPUT_PARTS`.
 */
export function outputPartsLimit(value: number | undefined): number {
  return Number.isFinite(value) && value! >= 1 ? Math.floor(value!) : DEFAULT_STORED_OUTPUT_PARTS;
}
