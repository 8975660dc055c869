import { hasControlCharacter } from './ids';

/** Longest list cursor accepted. Store cursors are short tokens; a longer one is garbage. */
export const MAX_CURSOR_LENGTH = 1000;

/** Whether a cursor is well-formed: 1 to {@link MAX_CURSOR_LENGTH} characters without control characters (the store decides whether it means anything). */
export function isValidCursor(cursor: unknown): cursor is string {
  return typeof cursor === 'string' && cursor !== '' && cursor.length <= MAX_CURSOR_LENGTH && !hasControlCharacter(cursor);
}

/**
 * A store's cursor text as an opaque URL-safe token: its UTF-8 bytes in
 * base64url without padding (no Node `Buffer`, so it runs on edge runtimes too).
 */
export function encodeCursorToken(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The text of an {@link encodeCursorToken} token, or `null` when `token` is not one (not base64url, not UTF-8). */
export function decodeCursorToken(token: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return null;
  try {
    const binary = atob(token.replace(/-/g, '+').replace(/_/g, '/'));
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}
