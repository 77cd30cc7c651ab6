import { describe, expect, it } from 'vitest';
import type { LabError } from './errors.js';
import {
  alreadyExists,
  conflict,
  ERROR_CODES,
  EXIT_CODE_ENGINE_FAILURE,
  EXIT_CODE_NOT_EXECUTABLE,
  EXIT_CODE_NOT_FOUND,
  failedPrecondition,
  formatError,
  httpStatus,
  internal,
  invalidArgument,
  isAlreadyExists,
  isConflict,
  isFailedPrecondition,
  isInternal,
  isInvalidArgument,
  isLabError,
  isNotFound,
  isUnavailable,
  notFound,
  toExitCode,
  unavailable,
  type ErrorCode,
  type LabErrorOptions,
} from './errors.js';

const HELPERS: [
  ErrorCode,
  (m: string, o?: LabErrorOptions) => LabError,
  (e: unknown) => boolean,
  number,
][] = [
  ['not-found', notFound, isNotFound, 404],
  ['already-exists', alreadyExists, isAlreadyExists, 409],
  ['invalid-argument', invalidArgument, isInvalidArgument, 400],
  ['failed-precondition', failedPrecondition, isFailedPrecondition, 412],
  ['conflict', conflict, isConflict, 409],
  ['unavailable', unavailable, isUnavailable, 503],
  ['internal', internal, isInternal, 500],
];

describe('error helpers', () => {
  it('cover every code', () => {
    expect(HELPERS.map(([code]) => code).sort()).toEqual([...ERROR_CODES].sort());
  });

  it.each(HELPERS)(
    '%s: message, code, details, cause, JSON, status, exit code',
    (code, make, check, status) => {
      const cause = new Error('EACCES: permission denied');
      const err = make(`image "x" ${code}: run lab pull x first`, { cause, details: { ref: 'x' } });
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe('LabError');
      expect(err.code).toBe(code);
      expect(err.message).toBe(`image "x" ${code}: run lab pull x first`);
      expect(err.cause).toBe(cause);
      expect(err.details).toEqual({ ref: 'x' });
      expect(JSON.parse(JSON.stringify(err))).toEqual({
        code,
        message: err.message,
        details: { ref: 'x' },
      });
      expect(isLabError(err)).toBe(true);
      expect(check(err)).toBe(true);
      for (const [other, , otherCheck] of HELPERS)
        if (other !== code) expect(otherCheck(err)).toBe(false);
      expect(httpStatus(code)).toBe(status);
      expect(toExitCode(err)).toBe(EXIT_CODE_ENGINE_FAILURE);
      expect(formatError(err)).toBe(`${err.message}: caused by: EACCES: permission denied`);
    },
  );

  it('recognises errors by code across package copies, not by class', () => {
    const foreign = Object.assign(new Error('gone'), { code: 'not-found' });
    expect(isNotFound(foreign)).toBe(true);
    expect(isLabError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    expect(isLabError({ code: 'not-found', message: 'plain object' })).toBe(false);
  });

  it('maps to docker exit codes: 125 for lab failures, 126/127 when the error says so', () => {
    expect(toExitCode(new Error('boom'))).toBe(125);
    expect(toExitCode('string thrown')).toBe(125);
    expect(
      toExitCode(
        failedPrecondition('exec: "/bin/nope": permission denied', {
          exitCode: EXIT_CODE_NOT_EXECUTABLE,
        }),
      ),
    ).toBe(126);
    expect(
      toExitCode(
        notFound('exec: "nope": executable file not found in $PATH', {
          exitCode: EXIT_CODE_NOT_FOUND,
        }),
      ),
    ).toBe(127);
  });

  it('formats errors without repeating a cause already in the message', () => {
    const cause = new Error('ENOENT');
    expect(formatError(notFound('open x: ENOENT', { cause }))).toBe('open x: ENOENT');
    expect(formatError(42)).toBe('42');
    expect(formatError(new Error('plain'))).toBe('plain');
  });
});
