/**
 * The contract rules that used to be written several times (stores, server,
 * fetch client, mutations) and now live once in src/contract.
 */
import { describe, expect, it } from 'vitest';
import { decodeCursorToken, encodeCursorToken, isValidCursor, MAX_CURSOR_LENGTH } from '../../src/contract/cursors';
import { abortError, isAbortError, JobProtocolError, JobRequestError } from '../../src/contract/errors';
import { checkListFilter } from '../../src/contract/listFilter';
import { jobIdRule, MAX_JOB_ID_LENGTH } from '../../src/contract/ids';
import { listLimitProblem, MAX_LIST_LIMIT } from '../../src/contract/limits';
import { parseJobFor } from '../../src/contract/parseJob';
import { isJobState, JOB_STATES } from '../../src/contract/states';
import { makeJob } from '../helpers';

describe('src/contract rules defined once', () => {
  it('parseJobFor accepts the job asked for and refuses another id as a JobProtocolError on id', () => {
    const job = makeJob({ id: 'a' });
    expect(parseJobFor(job, 'a')).toBe(job);
    const error = (() => {
      try {
        parseJobFor(makeJob({ id: 'b' }), 'a');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(JobProtocolError);
    expect((error as JobProtocolError).field).toBe('id');
    expect(() => parseJobFor({ id: 'a', status: 'done' }, 'a')).toThrow(JobProtocolError);
  });

  it('abortError is the signal’s AbortError reason when it has one, else a new AbortError', () => {
    const plain = abortError();
    expect(isAbortError(plain)).toBe(true);
    const controller = new AbortController();
    controller.abort();
    expect(abortError(controller.signal)).toBe(controller.signal.reason);
    const other = new AbortController();
    other.abort('gone');
    const made = abortError(other.signal);
    expect(isAbortError(made)).toBe(true);
    expect(made).not.toBe('gone');
  });

  it('cursor tokens round-trip any text as base64url and refuse what is not one', () => {
    for (const text of ['1700000000000:3', '[1700000000000,"ünïcode/id,with=signs"]']) {
      const token = encodeCursorToken(text);
      expect(token).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(decodeCursorToken(token)).toBe(text);
    }
    expect(encodeCursorToken('1:2')).toBe(btoa('1:2').replace(/=+$/, ''));
    expect(decodeCursorToken('')).toBeNull(); // an empty cursor is none
    expect(decodeCursorToken('not a token!')).toBeNull();
    expect(decodeCursorToken('_w')).toBeNull(); // one byte 0xff: not UTF-8
    expect(isValidCursor('abc')).toBe(true);
    expect(isValidCursor('')).toBe(false);
    expect(isValidCursor('a\u0000b')).toBe(false);
    expect(isValidCursor('x'.repeat(MAX_CURSOR_LENGTH + 1))).toBe(false);
  });

  it('listLimitProblem allows integers 1..MAX_LIST_LIMIT and names the rule otherwise', () => {
    for (const ok of [1, 20, MAX_LIST_LIMIT]) expect(listLimitProblem(ok)).toBeNull();
    for (const bad of [0, -1, MAX_LIST_LIMIT + 1, 1.5, NaN, '20', undefined]) {
      expect(listLimitProblem(bad)).toBe(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
    }
  });

  it('isJobState knows exactly the JOB_STATES', () => {
    for (const state of JOB_STATES) expect(isJobState(state)).toBe(true);
    for (const other of ['done', '', 'Pending', null, 1]) expect(isJobState(other)).toBe(false);
  });

  it('jobIdRule names the length limit and the reserved route names', () => {
    expect(jobIdRule()).toContain(`1 to ${MAX_JOB_ID_LENGTH} characters`);
    expect(jobIdRule()).toContain('"counts" or "events"');
  });
});

describe('checkListFilter (the one list-filter rule every store applies)', () => {
  it('resolves the default page size and keeps the states in the order given', () => {
    expect(checkListFilter(undefined)).toEqual({ statuses: [], limit: 20, meta: undefined, cursor: undefined });
    expect(checkListFilter({ status: ['failed', 'pending'], limit: 5, cursor: 'c' })).toMatchObject({ statuses: ['failed', 'pending'], limit: 5, cursor: 'c' });
    expect(checkListFilter({ status: 'completed' }).statuses).toEqual(['completed']);
  });

  it.each([
    ['limit 0', { limit: 0 }, /limit must be an integer from 1 to 100/],
    ['limit 101', { limit: 101 }, /limit must be an integer/],
    ['limit 2.5', { limit: 2.5 }, /limit must be an integer/],
    ['an unknown status', { status: 'done' as never }, /Unknown status "done"/],
    ['21 meta filters', { meta: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) }, /at most 20 meta filters/],
  ])('refuses %s with JobRequestError 400 bad_request', (_name, filter, message) => {
    let thrown: unknown;
    try {
      checkListFilter(filter);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(JobRequestError);
    expect(thrown).toMatchObject({ status: 400, code: 'bad_request' });
    expect((thrown as Error).message).toMatch(message);
  });
});
