import { existsSync } from 'node:fs';
import { describeRuntime } from '../testsuite.js';
import { createOciRuntime } from './oci-runtime.js';

const missing = ['/usr/sbin/runc', '/usr/bin/conmon'].filter((p) => !existsSync(p));

describeRuntime('runc', {
  make: (root) => createOciRuntime({ root }),
  skipReason:
    process.getuid?.() !== 0
      ? 'the runc runtime tests need root'
      : missing.length > 0
        ? `missing ${missing.join(', ')} (apt-get install runc conmon)`
        : undefined,
});
