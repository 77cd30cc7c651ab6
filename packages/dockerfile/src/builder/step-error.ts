/**
 * A failed build step, reported as BuildKit reports it: the Dockerfile location with the
 * instruction, the last lines of the step's output, and the cause
 * (`process "/bin/sh -c exit 3" did not complete successfully: exit code: 3`).
 */
import { LabError, type ErrorCode } from '@lab/oci';

/** Where a step is and what it printed last. */
export interface StepFailure {
  /** The Dockerfile's name in messages. */
  readonly file: string;
  /** 1-based first and last line of the instruction. */
  readonly line: number;
  readonly endLine: number;
  /** The instruction text. */
  readonly instruction: string;
  /** The last lines of output (RUN). */
  readonly outputTail: readonly string[];
  /** The step's exit code, for a RUN that failed. */
  readonly exitCode?: number;
}

/** The cause of a step's failure without its location (what the step's vertex shows). */
export function failureReason(err: unknown): string {
  if (err instanceof LabError && typeof err.details.reason === 'string') return err.details.reason;
  return err instanceof Error ? err.message : String(err);
}

/** Thrown for a step that failed; `details` carries the {@link StepFailure}. */
export function stepError(
  code: ErrorCode,
  failure: StepFailure,
  cause: string,
  causeError?: unknown,
): LabError {
  return new LabError(code, `${failure.file}:${String(failure.line)}: ${cause}`, {
    ...(causeError === undefined ? {} : { cause: causeError }),
    details: { ...failure, reason: cause },
  });
}

/**
 * Renders a build error the way BuildKit's client does: the output tail, then
 * `Dockerfile:N` with the surrounding lines (`>>>` marks the instruction), then `ERROR: …`.
 */
export function formatBuildError(err: unknown, dockerfile: string, file = 'Dockerfile'): string {
  let d: StepFailure & { reason: string };
  if (err instanceof LabError && typeof err.details.line === 'number') {
    d = err.details as unknown as StepFailure & { reason: string };
  } else if (
    err instanceof Error &&
    typeof (err as { line?: unknown }).line === 'number' &&
    (err as unknown as { line: number }).line > 0
  ) {
    // a Dockerfile parse or instruction error (DockerfileParseError, DockerfileError)
    const located = err as Error & { line: number; endLine?: number; buildkitMessage?: string };
    d = {
      file,
      line: located.line,
      endLine: located.endLine ?? located.line,
      instruction: '',
      outputTail: [],
      reason: located.buildkitMessage ?? located.message,
    };
  } else {
    return `ERROR: ${err instanceof Error ? err.message : String(err)}\n`;
  }
  const lines = dockerfile.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: string[] = [];
  if (d.outputTail.length > 0) {
    out.push('------');
    out.push(` > ${d.instruction}:`);
    for (const l of d.outputTail) out.push(l);
    out.push('------');
  }
  out.push(`${d.file}:${String(d.line)}`);
  out.push('--------------------');
  const from = Math.max(1, d.line - 2);
  const to = Math.min(lines.length, d.endLine + 2);
  for (let i = from; i <= to; i++) {
    const marker = i >= d.line && i <= d.endLine ? '>>>' : '   ';
    out.push(`${String(i).padStart(4)} | ${marker} ${lines[i - 1] ?? ''}`);
  }
  out.push('--------------------');
  out.push(`ERROR: failed to solve: ${d.reason}`);
  return `${out.join('\n')}\n`;
}
