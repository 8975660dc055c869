/** @internal Transitional re-export for the watcher files being split; import from `../contract/…` instead. */
export * from '../contract/ids';
export * from '../contract/limits';
