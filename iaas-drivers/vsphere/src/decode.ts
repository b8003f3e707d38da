import type { MoRef } from './soap.js';
import { child, childText, children, xsiType, type XmlElement } from './xml.js';

/** Readers of the vim25 data objects the driver receives; each takes only the fields it uses. */

export function readMoRef(element: XmlElement | undefined): MoRef | undefined {
  if (!element?.attrs.type || element.text === '') return undefined;
  return { type: element.attrs.type, value: element.text };
}

/** One ObjectContent of a RetrieveResult: the object and its properties by path. */
export interface ObjectProperties {
  obj: MoRef;
  props: Map<string, XmlElement>;
}

/** The objects of RetrievePropertiesEx's RetrieveResult (absent when nothing matched). */
export function readObjectContents(result: XmlElement | undefined): ObjectProperties[] {
  return children(result, 'objects').flatMap((object) => {
    const obj = readMoRef(child(object, 'obj'));
    if (!obj) return [];
    const props = new Map<string, XmlElement>();
    for (const prop of children(object, 'propSet')) {
      const name = childText(prop, 'name');
      const val = child(prop, 'val');
      if (name !== undefined && val) props.set(name, val);
    }
    return [{ obj, props }];
  });
}

export const TASK_STATES = ['queued', 'running', 'success', 'error'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface TaskInfo {
  state: TaskState;
  /** The method that started it (`CloneVM_Task`). */
  name?: string;
  /** LocalizedMethodFault, when `error`. */
  error?: XmlElement;
  /** The result, when `success` (a MoRef for CloneVM_Task). */
  result?: XmlElement;
  progress?: number;
}

export function readTaskInfo(info: XmlElement | undefined): TaskInfo {
  const state = childText(info, 'state');
  const known = (TASK_STATES as readonly string[]).includes(state ?? '') ? (state as TaskState) : 'running';
  const progress = Number(childText(info, 'progress'));
  return {
    state: known,
    name: childText(info, 'name'),
    error: child(info, 'error'),
    result: child(info, 'result'),
    ...(Number.isFinite(progress) ? { progress } : {}),
  };
}

/** A VirtualDevice of `config.hardware.device`, with the fields disks and controllers need. */
export interface VirtualDeviceInfo {
  key: number;
  /** `VirtualDisk`, `ParaVirtualSCSIController`, `VirtualVmxnet3`... */
  type: string;
  label?: string;
  controllerKey?: number;
  unitNumber?: number;
  /** SCSI controllers: their bus number. */
  busNumber?: number;
  /** Controllers: the keys of the devices on them. */
  device?: number[];
  /** Disks: size. */
  capacityInKB?: number;
  backing?: {
    type: string;
    fileName?: string;
    diskMode?: string;
    uuid?: string;
    /** The parent disk's file of a delta (linked-clone) disk. */
    parentFileName?: string;
  };
}

export function readDevices(val: XmlElement | undefined): VirtualDeviceInfo[] {
  return (val?.children ?? []).map((device) => {
    const backing = child(device, 'backing');
    const number = (name: string, from: XmlElement | undefined = device): number | undefined => {
      const text = childText(from, name);
      return text === undefined ? undefined : Number(text);
    };
    const info: VirtualDeviceInfo = {
      key: Number(childText(device, 'key')),
      type: xsiType(device) ?? device.name,
      label: childText(child(device, 'deviceInfo'), 'label'),
      controllerKey: number('controllerKey'),
      unitNumber: number('unitNumber'),
      busNumber: number('busNumber'),
      capacityInKB: number('capacityInKB'),
    };
    const onController = children(device, 'device').map((d) => Number(d.text));
    if (onController.length > 0) info.device = onController;
    if (backing) {
      info.backing = {
        type: xsiType(backing) ?? 'VirtualDeviceBackingInfo',
        fileName: childText(backing, 'fileName'),
        diskMode: childText(backing, 'diskMode'),
        uuid: childText(backing, 'uuid'),
        parentFileName: childText(child(backing, 'parent'), 'fileName'),
      };
    }
    return info;
  });
}

/** Controller types a disk can sit on, by the vim25 type names of SCSI controllers. */
export const SCSI_CONTROLLER_TYPES: ReadonlySet<string> = new Set([
  'ParaVirtualSCSIController',
  'VirtualLsiLogicController',
  'VirtualLsiLogicSASController',
  'VirtualBusLogicController',
]);

export interface CustomFieldDef {
  key: number;
  name: string;
  /** Unset: the field applies to every kind of managed entity. */
  managedObjectType?: string;
}

export function readFieldDefs(val: XmlElement | undefined): CustomFieldDef[] {
  return (val?.children ?? []).map(readFieldDef);
}

export function readFieldDef(def: XmlElement): CustomFieldDef {
  return {
    key: Number(childText(def, 'key')),
    name: childText(def, 'name') ?? '',
    managedObjectType: childText(def, 'managedObjectType'),
  };
}

/** An entity's `customValue`: field key -> value. */
export function readCustomValues(val: XmlElement | undefined): Map<number, string> {
  const values = new Map<number, string>();
  for (const value of val?.children ?? []) values.set(Number(childText(value, 'key')), childText(value, 'value') ?? '');
  return values;
}

/** `config.extraConfig`: key -> value. */
export function readOptionValues(val: XmlElement | undefined): Map<string, string> {
  const values = new Map<string, string>();
  for (const option of val?.children ?? []) {
    const key = childText(option, 'key');
    if (key !== undefined) values.set(key, childText(option, 'value') ?? '');
  }
  return values;
}

/** Files a datastore browser search found (HostDatastoreBrowserSearchResults.file). */
export interface FoundFile {
  path: string;
  fileSize?: number;
  capacityKb?: number;
}

export function readSearchResults(result: XmlElement | undefined): FoundFile[] {
  return children(result, 'file').map((file) => {
    const size = childText(file, 'fileSize');
    const capacity = childText(file, 'capacityKb');
    return {
      path: childText(file, 'path') ?? '',
      ...(size !== undefined ? { fileSize: Number(size) } : {}),
      ...(capacity !== undefined ? { capacityKb: Number(capacity) } : {}),
    };
  });
}
