/** @internal Transitional re-export for the watcher files being split; import `../contract/states` instead. */
export * from '../contract/states';
