// app/api/generations/route.ts — starts a generation for the signed-in user.
import { currentUserId } from './app-deps'; // your auth
import { generations } from './bullmq-queue';

export async function POST(request: Request) {
  const userId = await currentUserId(request);
  if (!userId) return Response.json({ error: { code: 'unauthorized', message: 'Sign in first' } }, { status: 401 });
  const { prompt } = ((await request.json().catch(() => null)) ?? {}) as { prompt?: unknown };
  if (typeof prompt !== 'string' || prompt.trim() === '') {
    return Response.json({ error: { code: 'bad_request', message: 'prompt is required' } }, { status: 400 });
  }
  const job = await generations.add('generate', { userId, prompt });
  return Response.json({ jobId: job.id }, { status: 202 });
}

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';
