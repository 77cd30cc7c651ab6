export { monitorMain, runRestartManager } from './monitor.js';
export type { MonitorArgs } from './spawn.js';
export { monitorCommand, spawnMonitor } from './spawn.js';
export { LOG_PUMP_SCRIPT } from './log-pump.js';
export {
  BACKOFF_MAX_MS,
  BACKOFF_RESET_AFTER_MS,
  BACKOFF_START_MS,
  nextBackoff,
  parseRestartPolicy,
  shouldRestart,
} from './restart-policy.js';
