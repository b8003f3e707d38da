import { ArmHttpError, isBase64, objectAt } from './http.js';
import { busy } from './resource-rules.js';
import type { FakeContext } from './routes.js';
import { VM_SIZES, type FakeVm } from './state.js';

/** What Compute checks in a VM's PUT body, and the refusals it answers with. */

const DATA_LIMIT = 87380;
const RESERVED_USERS = new Set(['admin', 'administrator', 'root', 'guest', 'test', 'user', 'sys', 'support']);

/** Publisher, offer and sku names compare case-insensitively. */
export function samePlatformName(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

export function checkSize(value: unknown): string {
  const size = VM_SIZES.find((s) => typeof value === 'string' && s.name.toLowerCase() === value.toLowerCase());
  if (!size) {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      `The value ${String(value)} provided for the VM size is not valid. The valid sizes in the current region are: ${VM_SIZES.map((s) => s.name).join(',')}.`,
      {},
      'vmSize',
    );
  }
  return size.name;
}

export function checkImage(ctx: FakeContext, ref: Record<string, unknown>): Record<string, string> {
  if (typeof ref.id === 'string') {
    const key = ctx.state.byId('image', ref.id);
    const image = key ? ctx.state.images.get(key) : undefined;
    if (image?.provisioningState !== 'Succeeded') {
      throw new ArmHttpError(
        404,
        'NotFound',
        `The Image '${ref.id}' cannot be found in '${ctx.state.location}' region.`,
        {},
        'imageReference',
      );
    }
    return { id: ref.id };
  }
  const { publisher, offer, sku, version } = ref as Record<string, string | undefined>;
  const image = ctx.state.platformImages.find(
    (p) => samePlatformName(p.publisher, publisher) && samePlatformName(p.offer, offer) && samePlatformName(p.sku, sku),
  );
  if (!image || !version || (version !== 'latest' && !image.versions.includes(version))) {
    throw new ArmHttpError(
      404,
      'PlatformImageNotFound',
      `The platform image '${publisher}:${offer}:${sku}:${version}' is not available. Verify that all fields in the storage profile are correct. For more details about storage profile information, please refer to https://aka.ms/storageprofile`,
      {},
      'imageReference',
    );
  }
  return { publisher: image.publisher, offer: image.offer, sku: image.sku, version };
}

export function checkAdmin(osProfile: Record<string, unknown>): string {
  const user = osProfile.adminUsername;
  if (typeof user !== 'string' || user === '')
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      "Required parameter 'adminUsername' is missing (null).",
      {},
      'adminUsername',
    );
  if (RESERVED_USERS.has(user.toLowerCase()))
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      'The Admin Username specified is not allowed.',
      {},
      'adminUsername',
    );
  return user;
}

export function checkLinux(config: Record<string, unknown>): Record<string, unknown> {
  const keys = objectAt(config.ssh).publicKeys;
  const hasKeys = Array.isArray(keys) && keys.length > 0;
  if (config.disablePasswordAuthentication === true && !hasKeys) {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      'Authentication using either SSH or by user name and password must be enabled in Linux profile.',
      {},
      'linuxConfiguration',
    );
  }
  for (const key of hasKeys ? (keys as unknown[]) : []) {
    const data = objectAt(key).keyData;
    if (typeof data !== 'string' || !/^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+/.test(data)) {
      throw new ArmHttpError(
        400,
        'InvalidParameter',
        'The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.',
        {},
        'linuxConfiguration.ssh.publicKeys.keyData',
      );
    }
  }
  return config;
}

export function checkData(value: unknown, target: string, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !isBase64(value) || value.length > DATA_LIMIT) {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      `${what} must be in Base64 encoding and with a maximum length of ${DATA_LIMIT} characters.`,
      {},
      target,
    );
  }
  return value;
}

export function checkNics(ctx: FakeContext, vmName: string, value: unknown): FakeVm['nics'] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      "Required parameter 'networkProfile' is missing (null).",
      {},
      'networkProfile',
    );
  }
  return value.map((raw, index) => {
    const entry = objectAt(raw);
    const key = ctx.state.byId('nic', typeof entry.id === 'string' ? entry.id : undefined);
    const nic = key ? ctx.state.nics.get(key) : undefined;
    if (!nic)
      throw new ArmHttpError(
        404,
        'NotFound',
        `Network interface '${String(entry.id)}' was not found.`,
        {},
        'networkInterfaces',
      );
    if (nic.vmKey && nic.vmKey !== ctx.state.vmId(vmName).toLowerCase()) {
      throw new ArmHttpError(
        400,
        'NicInUse',
        `Network Interface ${ctx.state.nicId(nic.name)} is used by existing resource ${nic.vmKey}. In order to create a new resource with this network interface, delete the existing resource first.`,
      );
    }
    if (nic.provisioningState !== 'Succeeded') throw busy();
    const props = objectAt(entry.properties);
    return {
      key: key!,
      primary: props.primary === true || index === 0,
      deleteOption: props.deleteOption === 'Delete' ? 'Delete' : 'Detach',
    };
  });
}
