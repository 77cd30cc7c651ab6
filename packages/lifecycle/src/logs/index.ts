export type { LogEntry, LogStream, LogWriter, ReadLogsOptions } from './json-file.js';
export {
  LineSplitter,
  formatLogEntry,
  nowRfc3339Nano,
  openLogWriter,
  readLogs,
} from './json-file.js';
