export type { Cgroup, CgroupMode, MemoryEvents, OpenCgroupOptions } from './cgroup.js';
export { detectCgroupMode, openCgroup } from './cgroup.js';
