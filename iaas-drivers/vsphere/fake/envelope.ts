import { SOAP_ENV_NS, VIM25_NS, XSD_NS, XSI_NS, bodyContent } from '../src/soap.js';
import { child, xsiType, type XmlElement } from '../src/xml.js';
import { VimFaultError } from './faults.js';
import { el } from './xml-out.js';

/** A parsed SOAP request: the method, its `_this`, and its arguments by name (repeated ones in order). */
export interface SoapRequest {
  method: string;
  self: { type: string; value: string };
  args: XmlElement[];
}

export function readRequest(text: string): SoapRequest {
  const body = bodyContent(text);
  if (!body) throw new VimFaultError('InvalidRequest', 'Unable to parse the request: it is not a SOAP 1.1 envelope');
  const self = child(body, '_this');
  if (!self?.attrs.type)
    throw new VimFaultError('InvalidRequest', `Required parameter _this is missing in ${body.name}`);
  return {
    method: body.name,
    self: { type: self.attrs.type, value: self.text },
    args: body.children.filter((c) => c.name !== '_this'),
  };
}

function wrap(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="${SOAP_ENV_NS}" xmlns:xsd="${XSD_NS}" xmlns:xsi="${XSI_NS}">\n` +
    `<soapenv:Body>\n${body}\n</soapenv:Body>\n</soapenv:Envelope>`
  );
}

/** `<MethodResponse xmlns="urn:vim25">returnval…</MethodResponse>` */
export function response(method: string, inner: string): string {
  return wrap(`<${method}Response xmlns="${VIM25_NS}">${inner}</${method}Response>`);
}

/**
 * A vim25 SOAP fault as vCenter writes it: faultcode ServerFaultCode, the message as faultstring, and the
 * typed fault in detail as `<TypeFault xsi:type="Type">` (InvalidLogin -> InvalidLoginFault).
 */
export function faultResponse(fault: VimFaultError, faultcode = 'ServerFaultCode'): string {
  return wrap(
    `<soapenv:Fault>${el('faultcode', faultcode)}${el('faultstring', fault.message)}<detail><${fault.type}Fault xmlns="${VIM25_NS}" xsi:type="${fault.type}">${fault.detail}</${fault.type}Fault></detail></soapenv:Fault>`,
  );
}

/**
 * The XSD sequences of the request types the fake reads: vCenter's deserializer refuses a known field out
 * of order ("Unexpected element tag") and an unknown one, so the fake does too. Inherited fields first.
 */
const SEQUENCES: Record<string, readonly string[]> = {
  PropertyFilterSpec: ['propSet', 'objectSet', 'reportMissingObjectsInResults'],
  PropertySpec: ['type', 'all', 'pathSet'],
  ObjectSpec: ['obj', 'skip', 'selectSet'],
  RetrieveOptions: ['maxObjects'],
  VirtualMachineCloneSpec: [
    'location',
    'template',
    'config',
    'customization',
    'powerOn',
    'snapshot',
    'memory',
    'tpmProvisionPolicy',
  ],
  VirtualMachineRelocateSpec: [
    'service',
    'folder',
    'datastore',
    'diskMoveType',
    'pool',
    'host',
    'disk',
    'transform',
    'deviceChange',
    'profile',
    'cryptoSpec',
  ],
  VirtualMachineConfigSpec: [
    'changeVersion',
    'name',
    'version',
    'createDate',
    'uuid',
    'instanceUuid',
    'npivNodeWorldWideName',
    'npivPortWorldWideName',
    'npivWorldWideNameType',
    'npivDesiredNodeWwns',
    'npivDesiredPortWwns',
    'npivTemporaryDisabled',
    'npivOnNonRdmDisks',
    'npivWorldWideNameOp',
    'locationId',
    'guestId',
    'alternateGuestName',
    'annotation',
    'files',
    'tools',
    'flags',
    'consolePreferences',
    'powerOpInfo',
    'rebootPowerOff',
    'numCPUs',
    'vcpuConfig',
    'numCoresPerSocket',
    'memoryMB',
    'memoryHotAddEnabled',
    'cpuHotAddEnabled',
    'cpuHotRemoveEnabled',
    'virtualICH7MPresent',
    'virtualSMCPresent',
    'deviceChange',
    'cpuAllocation',
    'memoryAllocation',
    'latencySensitivity',
    'cpuAffinity',
    'memoryAffinity',
    'networkShaper',
    'cpuFeatureMask',
    'extraConfig',
    'swapPlacement',
    'bootOptions',
  ],
  OptionValue: ['key', 'value'],
  VirtualDeviceConfigSpec: ['operation', 'fileOperation', 'device', 'profile', 'backing', 'filterSpec', 'changeMode'],
  VirtualDisk: [
    'key',
    'deviceInfo',
    'backing',
    'connectable',
    'slotInfo',
    'controllerKey',
    'unitNumber',
    'numaNode',
    'deviceGroupInfo',
    'capacityInKB',
    'capacityInBytes',
    'shares',
    'storageIOAllocation',
    'diskObjectId',
    'vFlashCacheConfigInfo',
    'iofilter',
    'vDiskId',
    'vDiskVersion',
    'virtualDiskFormat',
    'nativeUnmanagedLinkedClone',
  ],
  VirtualDiskFlatVer2BackingInfo: [
    'fileName',
    'datastore',
    'backingObjectId',
    'diskMode',
    'split',
    'writeThrough',
    'thinProvisioned',
    'eagerlyScrub',
    'uuid',
    'contentId',
    'changeId',
    'parent',
    'deltaDiskFormat',
    'digestEnabled',
    'deltaGrainSize',
    'deltaDiskFormatVariant',
    'sharing',
    'keyId',
  ],
  FileBackedVirtualDiskSpec: ['diskType', 'adapterType', 'capacityKb', 'profile', 'crypto'],
  HostDatastoreBrowserSearchSpec: ['query', 'details', 'searchCaseInsensitive', 'matchPattern', 'sortFoldersFirst'],
  VmDiskFileQuery: ['filter', 'details'],
  VmDiskFileQueryFlags: [
    'diskType',
    'capacityKb',
    'hardwareVersion',
    'controllerType',
    'diskExtents',
    'thin',
    'encryption',
  ],
  FileQueryFlags: ['fileType', 'fileSize', 'modification', 'fileOwner'],
};

/** Checks the field order of every data object in a request, recursively, as vCenter's deserializer does. */
export function checkSequence(element: XmlElement): void {
  const type = xsiType(element);
  const sequence = type ? SEQUENCES[type] : undefined;
  if (sequence) {
    let position = -1;
    for (const field of element.children) {
      const index = sequence.indexOf(field.name);
      if (index === -1 || index < position) {
        throw new VimFaultError('InvalidRequest', `Unexpected element tag "${field.name}" seen while parsing ${type}`);
      }
      position = index;
    }
  }
  if (type === 'OptionValue') {
    const value = child(element, 'value');
    if (value && !xsiType(value))
      throw new VimFaultError('InvalidRequest', 'OptionValue.value needs an xsi:type (it is declared xsd:anyType)');
  }
  for (const field of element.children) checkSequence(field);
}
