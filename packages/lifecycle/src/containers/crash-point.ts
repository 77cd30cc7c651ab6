/**
 * Test hook for crash safety: when `LAB_TEST_CRASH_POINT` names a point, the process kills
 * itself with SIGKILL there, as a power cut or `kill -9` would. Points: `create-before-snapshot`,
 * `create-after-snapshot`, `start-after-mount`, `start-after-create`, `start-after-running`,
 * `rm-after-mark`, `rm-after-unmount`. Unset in normal use.
 */
export function crashPoint(name: string): void {
  if (process.env.LAB_TEST_CRASH_POINT === name) process.kill(process.pid, 'SIGKILL');
}
