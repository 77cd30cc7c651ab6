/**
 * ChainIDs of every prefix of a layer stack (the snapshot keys of an image), built on
 * `chainID` from ../diff (image-spec config.md, oci.md §7).
 */
import type { Digest } from '@lab/oci';
import { chainID } from '../diff/chain.js';

/** The ChainID of every prefix of `diffIDs`: element i names layers 0..i applied in order. */
export function chainIDs(diffIDs: readonly Digest[]): Digest[] {
  return diffIDs.map((_, i) => chainID(diffIDs.slice(0, i + 1)));
}
