/** @internal Transitional re-export for the watcher files being split; import `../contract/parseJob` instead. */
export * from '../contract/parseJob';
