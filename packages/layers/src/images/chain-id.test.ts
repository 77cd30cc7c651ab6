import { describe, expect, it } from 'vitest';
import { chainIDs } from './chain-id.js';

// Test vectors from oci.md §7 (computed independently there).
const A = 'sha256:2ef22ca59280d3e26d976c0760ae945cd8bc82d408476b7edd0a75a7de0f4ea4';
const B = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

describe('chainIDs', () => {
  it('names each prefix of the layer stack as the image spec defines', () => {
    expect(chainIDs([A, B, A])).toEqual([
      A,
      'sha256:c6f027f3b858c55d89854cb2515913aa6c338188cc64578ff4a16f229617ed40',
      'sha256:25743db6b980019dd7d7c1e01d8540fff59326dfa012eae223af720488d342db',
    ]);
  });

  it('is empty for an image without layers', () => {
    expect(chainIDs([])).toEqual([]);
  });
});
