/** Types of findTools.mjs: where Chromium and redis-server are (see that file). */
type Env = Record<string, string | undefined>;

/** Directories searched after PATH when `JOBWATCH_TOOL_DIRS` does not replace them. */
export declare const DEFAULT_TOOL_DIRS: readonly string[];
/** Names Chromium goes by, in order of preference. */
export declare const CHROMIUM_NAMES: readonly string[];
/** Whether `file` is a regular file this process may execute. */
export declare function isExecutable(file: string): boolean;
/** PATH, then `JOBWATCH_TOOL_DIRS` or the default directories. */
export declare function searchDirs(env?: Env): string[];
/** The first executable called one of `names`, or `null`. */
export declare function findExecutable(names: readonly string[], env?: Env): string | null;
/** Chromium: `CHROMIUM_PATH` when set, else the first one found, else `null`. */
export declare function findChromium(env?: Env): string | null;
/** redis-server: `REDIS_SERVER_PATH` when set, else the first one found, else `null`. */
export declare function findRedisServer(env?: Env): string | null;
