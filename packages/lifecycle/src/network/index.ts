export type { BridgeNetwork, BridgeNetworkOptions, ConnectOptions } from './bridge-network.js';
export {
  DEFAULT_BRIDGE,
  containerResolv,
  hostVethName,
  openBridgeNetwork,
} from './bridge-network.js';
export type { Subnet } from './ipam.js';
export { formatIPv4, gatewayOf, macFor, nextFreeAddress, parseIPv4, parseSubnet } from './ipam.js';
export type { Endpoint, NetworkState, PublishedPort } from './network-state.js';
export { chainsOf, containerRules } from './port-forward.js';
export type { PortBindings } from './ports.js';
export { hostPortFree, portsView, resolvePorts } from './ports.js';
export type { LabNetworkSettings, LabProviders } from './lab-providers.js';
export { labProviders } from './lab-providers.js';
