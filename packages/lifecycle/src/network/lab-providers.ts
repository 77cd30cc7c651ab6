/**
 * The providers a lab root gets by default: the `bridge` network (`lab0`, 10.89.0.0/24, state in
 * `/run/lab/networks/lab0`, shared by every root on the host like the bridge itself) and the
 * root's local volume store. The container layer asks for them through `providersFor(root)`; a
 * composition root (the CLI, the monitor, tests) installs them with
 *
 * ```ts
 * registerProviders((root) => labProviders(root));
 * ```
 *
 * or passes `providers: labProviders(root, { bridge: 'labt0', subnet: '10.89.7.0/24', stateDir })` to
 * `openContainers`. Both providers are constructible from the root alone and keep all their
 * state on disk, so the monitor (another process) gets the same behaviour on restarts.
 */
import type { LabVolumeProvider } from '../volumes/volume-provider.js';
import { openVolumeProvider } from '../volumes/volume-provider.js';
import type { BridgeNetwork, BridgeNetworkOptions } from './bridge-network.js';
import { openBridgeNetwork } from './bridge-network.js';

/** Settings of the default bridge network. */
export type LabNetworkSettings = BridgeNetworkOptions;

/** What {@link labProviders} returns: the `Providers` of a root, with their concrete types. */
export interface LabProviders {
  network: BridgeNetwork;
  volumes: LabVolumeProvider;
}

/** The bridge network and volume providers of `root`. */
export function labProviders(root: string, network: LabNetworkSettings = {}): LabProviders {
  return {
    network: openBridgeNetwork(network),
    volumes: openVolumeProvider({ root }),
  };
}
