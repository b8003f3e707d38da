import { createHash, randomBytes } from 'node:crypto';
import { SlipwayError } from '@slipway/contracts';
import { PLUGIN } from './errors.js';

/** Custom fields the driver sets on every VM it creates. */
export const AGENT_ID_FIELD = 'slipway.agent_id';
export const REQUEST_ID_FIELD = 'slipway.request_id';

/** extraConfig keys the guest reads through VMware Tools (`vmtoolsd --cmd "info-get KEY"`). */
export const GUESTINFO_USERDATA = 'guestinfo.userdata';
export const GUESTINFO_ENCODING = 'guestinfo.userdata.encoding';
/** The VM's id as the driver knows it (its name), for the agent's instanceId(). */
export const GUESTINFO_VM_ID = 'guestinfo.slipway.vm_id';

function digest(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * The VM's name, and its id in the contract: derived from the request id, so a repeated createVm finds the
 * VM it made before. vCenter refuses a second VM of the same name in a folder (DuplicateName), which closes
 * the window of two concurrent creates with one request id. Hashed because request ids may hold `/`, which
 * inventory paths cannot.
 */
export function vmName(requestId: string | undefined): string {
  return `slipway-vm-${requestId ? digest(`vm:${requestId}`, 32) : randomBytes(16).toString('hex')}`;
}

/** A template's name: readable, and derived from the request id for idempotency. */
export function stemcellName(name: string, version: string, requestId: string | undefined): string {
  const readable = `${name}-${version}`
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .slice(0, 40);
  return `slipway-stemcell-${readable}-${requestId ? digest(`stemcell:${requestId}`, 12) : randomBytes(6).toString('hex')}`;
}

/** A persistent disk's id, which is also its file name without `.vmdk`. */
export function newDiskId(requestId: string | undefined): string {
  return `disk-${requestId ? digest(`disk:${requestId}`, 32) : randomBytes(16).toString('hex')}`;
}

const DISK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Refuses ids that are not file names (`../x`), which would reach other files of the datastore. */
export function checkDiskId(diskId: string): void {
  if (!DISK_ID.test(diskId) || diskId.includes('..')) {
    throw new SlipwayError('InvalidInput', `"${diskId}" is not a vSphere persistent disk id of this driver`, {
      plugin: PLUGIN,
      field: 'diskId',
    });
  }
}

/** `[datastore] folder/disk-….vmdk`: a datastore path, as every vim25 file method takes it. */
export function diskPath(datastore: string, folder: string, diskId: string): string {
  return `[${datastore}] ${folder}/${diskId}.vmdk`;
}

export function diskFolderPath(datastore: string, folder: string): string {
  return `[${datastore}] ${folder}`;
}

/** The disk id of a VMDK's datastore path when it is one of this driver's persistent disks. */
export function diskIdOfPath(path: string, datastore: string, folder: string): string | undefined {
  const prefix = `[${datastore}] ${folder}/`;
  if (!path.startsWith(prefix) || !path.endsWith('.vmdk')) return undefined;
  const id = path.slice(prefix.length, -'.vmdk'.length);
  return DISK_ID.test(id) && !id.includes('/') ? id : undefined;
}

/**
 * Where Linux shows a disk whose VM has `disk.EnableUUID=TRUE`: the VMDK's UUID becomes the SCSI disk's NAA
 * WWN, so udev links /dev/disk/by-id/wwn-0x<uuid as hex>. It names the disk whatever unit it sits on.
 */
export function devicePathOfUuid(uuid: string): string {
  return `/dev/disk/by-id/wwn-0x${uuid.replace(/[-\s]/g, '').toLowerCase()}`;
}

/** A light stemcell's id carries the suffix ` light` (BOSH's convention): the template belongs to the operator. */
export const LIGHT_SUFFIX = ' light';
