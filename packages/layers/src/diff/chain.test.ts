import { describe, expect, it } from 'vitest';
import { isInvalidArgument } from '@lab/oci';
import { chainID } from './chain.js';

// vectors from research/oci.md §7
const A = 'sha256:2ef22ca59280d3e26d976c0760ae945cd8bc82d408476b7edd0a75a7de0f4ea4';
const B = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

describe('chainID', () => {
  it('is the DiffID for one layer', () => {
    expect(chainID([A])).toBe(A);
  });
  it('hashes "parent diffID" for each further layer', () => {
    expect(chainID([A, B])).toBe(
      'sha256:c6f027f3b858c55d89854cb2515913aa6c338188cc64578ff4a16f229617ed40',
    );
    expect(chainID([A, B, A])).toBe(
      'sha256:25743db6b980019dd7d7c1e01d8540fff59326dfa012eae223af720488d342db',
    );
  });
  it('rejects an empty stack and malformed digests', () => {
    expect(() => chainID([])).toThrow(/at least one DiffID/);
    let err: unknown;
    try {
      chainID([A, 'sha256:xyz']);
    } catch (e) {
      err = e;
    }
    expect(isInvalidArgument(err)).toBe(true);
  });
});
