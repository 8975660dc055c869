// Stand-ins for an app's own modules, so the examples compile and run in tests.
import { createMemoryJobBackend } from 'jobwatch/testing';

/** The app's job store: any JobStore (here the in-memory one). */
export const jobStore = createMemoryJobBackend();

/** The app's auth: who is calling? */
export async function currentUserId(request: Request): Promise<string | null> {
  return request.headers.get('x-user-id');
}
