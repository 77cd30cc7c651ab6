import { spawn } from 'node:child_process';
import { internal } from '@lab/oci';

export interface RunToolOptions {
  cwd?: string;
  signal?: AbortSignal;
}

export interface ToolResult {
  stdout: Buffer;
  stderr: string;
}

/** Runs a system tool (mount, umount, cp, getfattr) and resolves with its output; throws on failure. */
export function runTool(
  command: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      reject(
        internal(`could not run ${command}: ${error.message}; is it installed and on PATH?`, {
          cause: error,
          details: { command, args },
        }),
      );
    });
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (code === 0) {
        resolve({ stdout: Buffer.concat(out), stderr });
        return;
      }
      const how = code === null ? `killed by ${String(signal)}` : `exit status ${code}`;
      reject(
        Object.assign(
          internal(`${command} ${args.join(' ')} failed (${how}): ${stderr || 'no output'}`, {
            details: { command, args, exitCode: code, stderr },
          }),
          { stderr, exitCode: code },
        ),
      );
    });
  });
}
