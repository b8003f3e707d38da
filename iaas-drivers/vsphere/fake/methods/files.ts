import { child, childText, children, xsiType } from '../../src/xml.js';
import {
  arg,
  argText,
  childBool,
  childNumber,
  optionalArg,
  refOf,
  type FakeContext,
  type MethodCall,
  type MethodHandler,
} from '../context.js';
import { checkSequence } from '../envelope.js';
import { VimFaultError } from '../faults.js';
import { FakeInventory, parseDatastorePath, type FakeDatastore } from '../state.js';
import { dateTime, el, obj, ref, text } from '../xml-out.js';
import { fileNotFound, invalidArgument } from './vm.js';

const DISK_TYPES = [
  'preallocated',
  'thin',
  'seSparse',
  'rdm',
  'rdmp',
  'raw',
  'delta',
  'sparse2Gb',
  'thick2Gb',
  'eagerZeroedThick',
  'sparseMonolithic',
  'flatMonolithic',
  'thick',
];
const ADAPTER_TYPES = ['ide', 'busLogic', 'lsiLogic'];

/** VirtualDiskManager, FileManager.MakeDirectory and HostDatastoreBrowser.SearchDatastore_Task over the fake's datastore files. */
export const fileMethods: Record<string, MethodHandler> = {
  CreateVirtualDisk_Task: {
    handle: (ctx, call) => {
      const name = argText(call, 'name');
      datacenter(ctx, call);
      const spec = arg(call, 'spec');
      checkSequence(spec);
      return {
        body: ref(
          'returnval',
          ctx.tasks.start(
            'CreateVirtualDisk_Task',
            'VirtualDiskManager.createVirtualDisk',
            undefined,
            ctx.timings.taskMs,
            () => {
              datastoreOf(ctx, name);
              if (xsiType(spec) !== 'FileBackedVirtualDiskSpec')
                throw new VimFaultError(
                  'NotSupported',
                  'The fake vCenter creates file-backed disks only (FileBackedVirtualDiskSpec)',
                );
              if (!DISK_TYPES.includes(childText(spec, 'diskType') ?? '')) throw invalidArgument('spec.diskType');
              if (!ADAPTER_TYPES.includes(childText(spec, 'adapterType') ?? ''))
                throw invalidArgument('spec.adapterType');
              const capacityKb = childNumber(spec, 'capacityKb');
              if (capacityKb === undefined || !Number.isInteger(capacityKb) || capacityKb < 1)
                throw invalidArgument('spec.capacityKb');
              if (!ctx.inventory.directories.has(directoryOf(name))) throw fileNotFound(directoryOf(name));
              if (ctx.inventory.files.has(name)) throw fileAlreadyExists(name);
              const made = [...ctx.inventory.files.values()].filter((f) => f.standalone).length;
              if (ctx.inventory.quota.disks !== undefined && made >= ctx.inventory.quota.disks) {
                throw new VimFaultError(
                  'NoDiskSpace',
                  `There is not enough space on the file system for the selected operation.`,
                  el('datastore', parseDatastorePath(name)!.datastore),
                );
              }
              // Created as the task runs, so a second create of the same name sees it at once.
              ctx.inventory.files.set(name, {
                path: name,
                capacityKb,
                uuid: FakeInventory.diskUuid(),
                modified: Date.now(),
                standalone: true,
              });
              return { result: text('xsd:string', name) };
            },
          ),
        ),
      };
    },
  },
  DeleteVirtualDisk_Task: {
    handle: (ctx, call) => {
      const name = argText(call, 'name');
      datacenter(ctx, call);
      return {
        body: ref(
          'returnval',
          ctx.tasks.start(
            'DeleteVirtualDisk_Task',
            'VirtualDiskManager.deleteVirtualDisk',
            undefined,
            ctx.timings.taskMs,
            () => {
              datastoreOf(ctx, name);
              if (!ctx.inventory.files.has(name)) throw fileNotFound(name);
              if (ctx.inventory.holdersOf(name).length > 0) throw locked(name);
              ctx.inventory.files.delete(name);
            },
          ),
        ),
      };
    },
  },
  ExtendVirtualDisk_Task: {
    handle: (ctx, call) => {
      const name = argText(call, 'name');
      datacenter(ctx, call);
      const newCapacityKb = Number(argText(call, 'newCapacityKb'));
      return {
        body: ref(
          'returnval',
          ctx.tasks.start(
            'ExtendVirtualDisk_Task',
            'VirtualDiskManager.extendVirtualDisk',
            undefined,
            ctx.timings.taskMs,
            () => {
              const file = ctx.inventory.files.get(name);
              if (!file) throw fileNotFound(name);
              // A running VM holds its disks open.
              if (ctx.inventory.holdersOf(name).some((vm) => vm.powerState !== 'poweredOff')) throw locked(name);
              if (!Number.isInteger(newCapacityKb) || newCapacityKb < file.capacityKb)
                throw invalidArgument('newCapacityKb');
              file.capacityKb = newCapacityKb;
              file.modified = Date.now();
            },
          ),
        ),
      };
    },
  },
  MakeDirectory: {
    handle: (ctx, call) => {
      const name = argText(call, 'name').replace(/\/+$/, '');
      datacenter(ctx, call);
      datastoreOf(ctx, name);
      if (ctx.inventory.directories.has(name)) throw fileAlreadyExists(name);
      const parent = directoryOf(name);
      const createParents = optionalArg(call, 'createParentDirectories')?.text === 'true';
      if (parent.endsWith(']') === false && !ctx.inventory.directories.has(parent) && !createParents)
        throw fileNotFound(parent);
      for (let path = name; !path.endsWith(']'); path = directoryOf(path)) ctx.inventory.directories.add(path);
      return { body: '' };
    },
  },
  SearchDatastore_Task: {
    handle: (ctx, call) => {
      const browser = ctx.inventory.getAs(call.request.self, 'HostDatastoreBrowser');
      const folderPath = argText(call, 'datastorePath').replace(/\/+$/, '');
      const spec = optionalArg(call, 'searchSpec');
      if (spec) checkSequence(spec);
      return {
        body: ref(
          'returnval',
          ctx.tasks.start('SearchDatastore_Task', 'HostDatastoreBrowser.search', browser, ctx.timings.taskMs, () => {
            const datastore = datastoreOf(ctx, `${folderPath}/x`);
            if (datastore.ref.value !== browser.datastore.value) throw invalidArgument('datastorePath');
            if (!ctx.inventory.directories.has(folderPath)) throw fileNotFound(folderPath);
            const patterns = children(spec, 'matchPattern').map((p) => glob(p.text));
            const diskQuery = children(spec, 'query').some((q) => xsiType(q) === 'VmDiskFileQuery');
            const details = child(
              children(spec, 'query').find((q) => xsiType(q) === 'VmDiskFileQuery'),
              'details',
            );
            const wantCapacity = childBool(details, 'capacityKb') ?? false;
            const files = [...ctx.inventory.files.values()]
              .filter((f) => directoryOf(f.path) === folderPath)
              .map((f) => ({ file: f, name: f.path.slice(folderPath.length + 1) }))
              .filter(
                ({ name }) =>
                  (patterns.length === 0 || patterns.some((p) => p.test(name))) &&
                  (!diskQuery || name.endsWith('.vmdk')),
              )
              .map(({ file, name }) =>
                obj(
                  'file',
                  'VmDiskFileInfo',
                  el('path', name),
                  el('fileSize', Math.min(file.capacityKb * 1024, 4096 * 1024)),
                  el('modification', dateTime(file.modified)),
                  el('diskType', 'VirtualDiskFlatVer2BackingInfo'),
                  wantCapacity ? el('capacityKb', file.capacityKb) : '',
                  el('hardwareVersion', 4),
                  el('thin', true),
                ),
              );
            return {
              result: {
                type: 'HostDatastoreBrowserSearchResults',
                inner: ref('datastore', datastore.ref) + el('folderPath', folderPath) + files.join(''),
              },
            };
          }),
        ),
      };
    },
  },
};

function datacenter(ctx: FakeContext, call: MethodCall): void {
  const reference = refOf(optionalArg(call, 'datacenter'));
  // vCenter needs the datacenter to resolve a datastore path; an ESXi host does not.
  if (!reference)
    throw new VimFaultError(
      'InvalidArgument',
      'A specified parameter was not correct: datacenter',
      el('invalidProperty', 'datacenter'),
    );
  ctx.inventory.getAs(reference, 'Datacenter');
}

function datastoreOf(ctx: FakeContext, path: string): FakeDatastore {
  const parsed = parseDatastorePath(path);
  const datastore = parsed ? ctx.inventory.datastoreNamed(parsed.datastore) : undefined;
  if (!datastore || !parsed || parsed.relative === '') {
    throw new VimFaultError('InvalidDatastorePath', `Invalid datastore path '${path}'.`, el('datastorePath', path));
  }
  return datastore;
}

/** `[ds] a/b/c.vmdk` -> `[ds] a/b`; `[ds] a` -> `[ds]`. */
function directoryOf(path: string): string {
  const slash = path.lastIndexOf('/');
  if (slash !== -1) return path.slice(0, slash);
  return path.slice(0, path.indexOf(']') + 1);
}

function fileAlreadyExists(path: string): VimFaultError {
  return new VimFaultError(
    'FileAlreadyExists',
    `Cannot complete the operation because the file or folder ${path} already exists`,
    el('file', path),
  );
}

function locked(path: string): VimFaultError {
  return new VimFaultError('FileLocked', `Unable to access file ${path} since it is locked`, el('file', path));
}

/** A datastore browser match pattern (`*` and `?`). */
function glob(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}
