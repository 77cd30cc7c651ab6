import { describeRuntime } from '../testsuite.js';
import { createBuiltinRuntime } from './builtin-runtime.js';

describeRuntime('builtin', {
  make: (root) => createBuiltinRuntime({ root }),
  skipReason:
    process.getuid?.() === 0
      ? undefined
      : 'the builtin runtime tests need root (namespaces, cgroups)',
});
