/** Written to $SLIPWAY_HOME/slipway.yaml on first start: the embedded defaults, explained. */
export const DEFAULT_CONFIG_YAML = `# Slipway configuration. Check a change with: slipway validate FILE
# Reference: docs/configuration.md

api:
  bind: 127.0.0.1          # address the REST API and the agent channel listen on
  port: 9021               # PKS used 9021 too
  # advertise_url: https://slipway.example.com:9021   # what agents on VMs dial; default: the first start's URL, kept while VMs exist
  token_ttl_seconds: 43200
  # login_limits: { per_user: 5, per_address: 20, window_seconds: 300 }   # failed logins before 429
  # headers_timeout_seconds: 10    # a client must send its headers within this
  # request_timeout_seconds: 60    # ... and its whole request (a trickled body is cut off)

# Where secrets and every cluster's PKI live (CredHub-like: typed, versioned, encrypted at rest).
credentials:
  plugin: "@slipway/credentials-credhub"
  version: "^1"
  config: {}

# IaaS targets. Plans place clusters on one of them by name.
# The sandbox is an in-process simulated cloud whose VMs run the real node agent.
iaas:
  - name: sandbox
    plugin: "@slipway/iaas-sandbox"
    version: "^1"
    config:
      boot_delay_ms: 200

# Addresses for cluster VMs: a flat range per IaaS target.
network:
  plugin: "@slipway/network-flat"
  version: "^2"
  config:
    ranges:
      sandbox:
        cidr: 10.20.0.0/16

kubernetes:
  default_version: 1.31.4
  stemcell: { name: ubuntu-jammy, version: "1.600" }

agents:
  heartbeat_interval_seconds: 30
  boot_timeout_seconds: 600

# The sandbox's VMs run the real node agent with simulated processes: nothing there can answer the
# Kubernetes API's /readyz, so its plans are etcd-only rehearsals (kubernetes.require_api: false) and
# \`slipway cluster\` says so. A plan on a cloud whose VMs run the kube-* binaries leaves it out (default true).
plans:
  - name: small
    description: "1 master, 3 workers: for development"
    iaas: sandbox
    master_instances: 1
    worker_instances: 3
    max_worker_instances: 10
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
  - name: ha
    description: "3 masters, 5 workers: etcd survives the loss of a master"
    iaas: sandbox
    master_instances: 3
    worker_instances: 5
    max_worker_instances: 50
    master_vm: { cpu: 4, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    worker_vm: { cpu: 4, memory_mb: 16384, ephemeral_disk_mb: 65536, persistent_disk_mb: 51200 }
    kubernetes: { require_api: false }
`;
