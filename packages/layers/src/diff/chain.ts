/**
 * ChainID (OCI image spec, config.md "Layer ChainID"): the name of the result of applying
 * layers 0..n, used as the key of unpacked layer stacks.
 *
 *   ChainID(L0) = DiffID(L0)
 *   ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln))
 */
import { createHash } from 'node:crypto';
import { invalidArgument, parseDigest, type Digest } from '@lab/oci';

/** The ChainID of a layer stack given its DiffIDs bottom first. */
export function chainID(diffIDs: readonly string[]): Digest {
  if (diffIDs.length === 0) {
    throw invalidArgument('chainID needs at least one DiffID: an image has one layer or more');
  }
  let chain = diffIDs[0]!;
  parseDigest(chain);
  for (const diffID of diffIDs.slice(1)) {
    parseDigest(diffID);
    chain = `sha256:${createHash('sha256').update(`${chain} ${diffID}`).digest('hex')}`;
  }
  return chain as Digest;
}
