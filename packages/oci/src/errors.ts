/**
 * The error vocabulary shared by every lab package (modelled on containerd's errdefs).
 * Each error carries a closed `code`, a message that says what to do next, optional
 * structured `details`, and a native `cause`. Check codes with the `is*` helpers, which
 * compare `code` rather than `instanceof`, so they work across copies of this package.
 */

export const ERROR_CODES = [
  'not-found',
  'already-exists',
  'invalid-argument',
  'failed-precondition',
  'conflict',
  'unavailable',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface LabErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Machine-readable context: the path, field, reference… the error is about. */
  details?: Record<string, unknown>;
}

export class LabError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: LabErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LabError';
    this.code = code;
    this.details = options.details ?? {};
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

function make(code: ErrorCode) {
  return (message: string, options?: LabErrorOptions): LabError =>
    new LabError(code, message, options);
}

export const notFound = make('not-found');
export const alreadyExists = make('already-exists');
export const invalidArgument = make('invalid-argument');
export const failedPrecondition = make('failed-precondition');
export const conflict = make('conflict');
export const unavailable = make('unavailable');
export const internal = make('internal');

export function isLabError(err: unknown): err is LabError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (ERROR_CODES as readonly string[]).includes((err as { code: string }).code) &&
    err instanceof Error
  );
}

function is(code: ErrorCode) {
  return (err: unknown): err is LabError => isLabError(err) && err.code === code;
}

export const isNotFound = is('not-found');
export const isAlreadyExists = is('already-exists');
export const isInvalidArgument = is('invalid-argument');
export const isFailedPrecondition = is('failed-precondition');
export const isConflict = is('conflict');
export const isUnavailable = is('unavailable');
export const isInternal = is('internal');

/** docker's CLI convention: 125 means the engine itself failed. */
export const EXIT_CODE_ENGINE_FAILURE = 125;
/** The command was found but cannot be invoked. */
export const EXIT_CODE_NOT_EXECUTABLE = 126;
/** The command was not found. */
export const EXIT_CODE_NOT_FOUND = 127;

const HTTP_STATUS: Record<ErrorCode, number> = {
  'not-found': 404,
  'already-exists': 409,
  'invalid-argument': 400,
  'failed-precondition': 412,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

/** The HTTP status an API server answers with for this error code. */
export function httpStatus(code: ErrorCode): number {
  return HTTP_STATUS[code];
}
