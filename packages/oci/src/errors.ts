/**
 * The error vocabulary shared by every lab package (modelled on containerd's errdefs).
 * Each error carries a closed `code`, a message that says what to do next, optional
 * structured `details`, and a native `cause`. Check codes with the `is*` helpers, which
 * compare `code` rather than `instanceof`, so they work across copies of this package.
 */

/** Every error code, closed: map each one, and nothing else, in switch statements. */
export const ERROR_CODES = [
  'not-found',
  'already-exists',
  'invalid-argument',
  'failed-precondition',
  'conflict',
  'unavailable',
  'internal',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Options of every error helper. */
export interface LabErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Machine-readable context: the path, field, reference… the error is about. */
  details?: Record<string, unknown>;
  /**
   * The CLI exit status this error should produce when it is not lab's own failure:
   * {@link EXIT_CODE_NOT_EXECUTABLE} (126) when the container's command cannot be invoked,
   * {@link EXIT_CODE_NOT_FOUND} (127) when it does not exist. Default: 125.
   */
  exitCode?: number;
}

/** The error every lab package throws across its boundary. */
export class LabError extends Error {
  /** What kind of failure this is. */
  readonly code: ErrorCode;
  /** Machine-readable context (paths, fields, references…). */
  readonly details: Record<string, unknown>;
  /** The exit status the CLI should use, when not 125 (see {@link toExitCode}). */
  readonly exitCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: LabErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LabError';
    this.code = code;
    this.details = options.details ?? {};
    this.exitCode = options.exitCode;
  }

  /** The JSON form an API or `--format json` renders. */
  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

function make(code: ErrorCode) {
  return (message: string, options?: LabErrorOptions): LabError =>
    new LabError(code, message, options);
}

/** Something asked for does not exist (image, container, blob, file). */
export const notFound = make('not-found');
/** Something to create exists already (name in use, tag present). */
export const alreadyExists = make('already-exists');
/** The input is malformed: a reference, a document, a flag value. Say where and how to fix it. */
export const invalidArgument = make('invalid-argument');
/** The input is fine but the system is not in a state to act on it (container not running…). */
export const failedPrecondition = make('failed-precondition');
/** A concurrent change won (lock held, revision moved); retrying may help. */
export const conflict = make('conflict');
/** A dependency is not reachable (registry, runtime binary, kernel feature). */
export const unavailable = make('unavailable');
/** A bug or an unexpected state in lab itself. */
export const internal = make('internal');

/** True for a LabError (by shape, so it works across copies of this package). */
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

/** True for a LabError with code `not-found` (checks `code`, not `instanceof`). */
export const isNotFound = is('not-found');
/** True for a LabError with code `already-exists`. */
export const isAlreadyExists = is('already-exists');
/** True for a LabError with code `invalid-argument`. */
export const isInvalidArgument = is('invalid-argument');
/** True for a LabError with code `failed-precondition`. */
export const isFailedPrecondition = is('failed-precondition');
/** True for a LabError with code `conflict`. */
export const isConflict = is('conflict');
/** True for a LabError with code `unavailable`. */
export const isUnavailable = is('unavailable');
/** True for a LabError with code `internal`. */
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

/**
 * The CLI exit status for an error, as docker maps it: 125 when lab itself failed (any
 * LabError, or anything else thrown), unless the error carries an `exitCode` such as 126
 * (command not executable) or 127 (command not found). A container's own exit status is
 * not an error and does not pass through here.
 */
export function toExitCode(err: unknown): number {
  if (isLabError(err) && err.exitCode !== undefined) return err.exitCode;
  return EXIT_CODE_ENGINE_FAILURE;
}

/**
 * A one-line rendering for a terminal: the message, then the underlying cause's message
 * when it adds something (`…: caused by: EACCES …`).
 */
export function formatError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error && cause.message !== '' && !err.message.includes(cause.message)) {
    return `${err.message}: caused by: ${cause.message}`;
  }
  return err.message;
}
