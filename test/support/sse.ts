import type { Job } from '../../src/contract/types';

/** One SSE block: its fields, and its comment lines. */
export interface SseBlock {
  event?: string;
  id?: string;
  data?: string;
  retry?: string;
  comments: string[];
}

/**
 * Reads a response body as SSE, block by block, in the background. A small
 * parser on purpose: it checks the wire format, not a library's reading of it.
 */
export function readEvents(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const blocks: SseBlock[] = [];
  let buffer = '';
  let ended = false;
  /** Why the body broke off (e.g. the server process died), when it did not end cleanly. */
  let failure: unknown = null;
  const finished = (async () => {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        failure = error;
        ended = true;
        return;
      }
      const { value, done } = chunk;
      if (done) {
        ended = true;
        return;
      }
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block: SseBlock = { comments: [] };
        for (const line of buffer.slice(0, end).split('\n')) {
          if (line.startsWith(':')) {
            block.comments.push(line.slice(1).trim());
            continue;
          }
          const colon = line.indexOf(':');
          const field = line.slice(0, colon) as 'event' | 'id' | 'data' | 'retry';
          block[field] = line.slice(colon + 1).replace(/^ /, '');
        }
        blocks.push(block);
        buffer = buffer.slice(end + 2);
      }
    }
  })();
  return {
    blocks,
    finished,
    get ended() {
      return ended;
    },
    get failure() {
      return failure;
    },
    cancel: () => reader.cancel(),
    /** `job` and `missing` events. */
    events: () =>
      blocks
        .filter((block) => block.event !== undefined)
        .map((block) => ({ event: block.event, id: block.id, data: JSON.parse(block.data!) as Job | { id: string } })),
    jobs: () => blocks.filter((block) => block.event === 'job').map((block) => JSON.parse(block.data!) as Job),
    /** The id of the last event: what an EventSource sends back as Last-Event-ID. */
    lastId: () => blocks.filter((block) => block.id !== undefined).at(-1)?.id,
    /** How many `: heartbeat` comments arrived. */
    heartbeats: () => blocks.filter((block) => block.comments.includes('heartbeat')).length,
  };
}
