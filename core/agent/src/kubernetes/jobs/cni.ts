import type { JobDefinition } from '../job-definition.js';
import { configText } from '../config-text.js';

/** The reference CNI plugins the bridge network needs. */
export const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'];

/**
 * The pod network of a node: a bridge with host-local addresses from the node's /24 of the pod CIDR, as the
 * CNI reference plugins document it. No process: containerd runs the plugins for each pod sandbox.
 * The range is the control plane's allocation for this node (the same value as the kubelet's podCIDR and the
 * other nodes' routes to it); kube-controller-manager allocates none, so the two cannot disagree. Traffic to
 * other nodes' pods leaves by the host routes the agent programs (flat networks) or the network's own routing.
 */
export const cniJob: JobDefinition = {
  name: 'cni',
  render(context) {
    // A CNI of the operator's (Antrea, flannel; podRouting `none`) installs its own config: a second one here
    // would be the one containerd picks if its name sorts first.
    const own = context.cluster.podRouting !== 'none';
    const subnet = context.node.podCidr ?? context.cluster.podCidr;
    const conflist = {
      cniVersion: '1.0.0',
      name: 'slipway',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    };
    return {
      files: own
        ? [{ path: `${context.cni.confDir}/10-slipway.conflist`, content: configText(conflist), mode: 0o644 }]
        : [],
      processes: [],
      extraBinaries: CNI_PLUGINS.map((name) => ({ name, dirs: [context.cni.binDir] })),
    };
  },
};
