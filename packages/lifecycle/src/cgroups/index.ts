export type { Cgroup, CgroupMode, CgroupStats, MemoryEvents, OpenCgroupOptions } from './cgroup.js';
export { detectCgroupMode, openCgroup } from './cgroup.js';
