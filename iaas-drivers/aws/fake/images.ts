import { visible, type ActionHandler, type FakeContext } from './context.js';
import { Ec2Error, checkId, invalidValue, missingParameter } from './errors.js';
import { matches, page, parseFilters, tagsFromSpecifications, type FilterSpec } from './filters.js';
import { ec2Id, isoNow, type FakeImage } from './state.js';
import { ownerIds } from './snapshots.js';
import { tagSet, type XmlObject } from './xml.js';

const ARCHITECTURES = ['i386', 'x86_64', 'arm64', 'x86_64_mac', 'arm64_mac'];

const IMAGE_FILTERS: FilterSpec<FakeImage> = {
  'image-id': (i) => [i.id],
  name: (i) => [i.name],
  state: (i) => [i.state],
  'owner-id': (i) => [i.ownerId],
  architecture: (i) => [i.architecture],
  'is-public': (i) => [String(i.isPublic)],
  'block-device-mapping.snapshot-id': (i) => [i.snapshotId],
};

/** RegisterImage from an EBS snapshot (S3 manifests are not simulated). AMI names are unique per account. */
export const registerImage: ActionHandler = (args, ctx) => {
  const { state } = ctx;
  const name = args.required('Name');
  if (name.length < 3 || name.length > 128 || !/^[A-Za-z0-9()[\]./\-'@_ ]+$/.test(name)) {
    throw new Ec2Error(
      'InvalidAMIName.Malformed',
      `AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'`,
    );
  }
  // Names are checked against every AMI of the account, seen by Describe yet or not: a strongly consistent index.
  const duplicate = [...state.images.values()].find((i) => i.ownerId === state.accountId && i.name === name);
  if (duplicate)
    throw new Ec2Error('InvalidAMIName.Duplicate', `AMI name ${name} is already in use by AMI ${duplicate.id}`);
  if (args.str('ImageLocation') !== undefined)
    throw new Ec2Error('UnsupportedOperation', 'This fake registers AMIs from EBS snapshots only.');
  const architecture = args.str('Architecture') ?? 'i386';
  if (!ARCHITECTURES.includes(architecture))
    throw invalidValue('architecture', architecture, `Valid values: ${ARCHITECTURES.slice(0, 3).join(', ')}.`);
  const rootDeviceName = args.str('RootDeviceName');
  if (!rootDeviceName) throw missingParameter('RootDeviceName');
  const root = args.list('BlockDeviceMapping').find((m) => m.str('DeviceName') === rootDeviceName);
  const snapshotId = root?.str('Ebs.SnapshotId');
  if (!snapshotId)
    throw new Ec2Error(
      'InvalidBlockDeviceMapping',
      `The root device ${rootDeviceName} needs an EBS snapshot in the block device mapping`,
    );
  checkId(snapshotId, 'snap', 'InvalidSnapshot.Malformed');
  const snapshot = state.snapshots.get(snapshotId);
  if (snapshot?.state !== 'completed')
    throw new Ec2Error('InvalidSnapshot.NotFound', `The snapshot '${snapshotId}' does not exist.`);
  const image: FakeImage = {
    id: ec2Id('ami'),
    name,
    ...(args.str('Description') ? { description: args.str('Description')! } : {}),
    state: 'pending',
    ownerId: state.accountId,
    isPublic: false,
    architecture,
    rootDeviceName,
    snapshotId,
    rootSize: root?.int('Ebs.VolumeSize') ?? snapshot.volumeSize,
    virtualizationType: args.str('VirtualizationType') ?? 'paravirtual',
    enaSupport: args.bool('EnaSupport') ?? false,
    ...(args.str('ImdsSupport') ? { imdsSupport: args.str('ImdsSupport')! } : {}),
    tags: tagsFromSpecifications(args, 'image', ['image', 'snapshot']),
    creationDate: isoNow(),
    createdAt: Date.now(),
  };
  state.images.set(image.id, image);
  ctx.scheduler.later(ctx.timings.snapshotMs, () => {
    if (image.state === 'pending') image.state = 'available';
  });
  return { imageId: image.id };
};

export const describeImages: ActionHandler = (args, ctx) => {
  const ids = args.strings('ImageId');
  const owners = ownerIds(ctx, args);
  const filters = parseFilters(args.list('Filter'), IMAGE_FILTERS);
  const wanted = (i: FakeImage) => (owners ? owners.includes(i.ownerId) : true) && matches(i, filters, IMAGE_FILTERS);
  const images =
    ids.length > 0
      ? lookUpImages(ctx, ids).filter(wanted)
      : [...ctx.state.images.values()].filter(
          (i) => (i.isPublic || i.ownerId === ctx.state.accountId) && wanted(i) && visible(ctx, i),
        );
  const paged = page(images, args, { min: 1, max: 1000 });
  return { imagesSet: paged.items.map(imageXml), ...(paged.nextToken ? { nextToken: paged.nextToken } : {}) };
};

export const deregisterImage: ActionHandler = (args, ctx) => {
  const imageId = args.required('ImageId');
  const [image] = lookUpImages(ctx, [imageId]);
  if (image!.ownerId !== ctx.state.accountId)
    throw new Ec2Error('AuthFailure', `Not authorized for image:${imageId}`, 401);
  ctx.state.images.delete(imageId);
  return { return: true };
};

function lookUpImages(ctx: FakeContext, ids: string[]): FakeImage[] {
  for (const id of ids) checkId(id, 'ami', 'InvalidAMIID.Malformed');
  const missing = ids.filter((id) => {
    const image = ctx.state.images.get(id);
    return !image || (!image.isPublic && image.ownerId !== ctx.state.accountId) || !visible(ctx, image);
  });
  if (missing.length > 0)
    throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${missing.join(', ')}]' does not exist`);
  return ids.map((id) => ctx.state.images.get(id)!);
}

function imageXml(i: FakeImage): XmlObject {
  return {
    imageId: i.id,
    imageLocation: `${i.ownerId}/${i.name}`,
    imageState: i.state,
    imageOwnerId: i.ownerId,
    creationDate: i.creationDate,
    isPublic: i.isPublic,
    architecture: i.architecture,
    imageType: 'machine',
    name: i.name,
    ...(i.description ? { description: i.description } : {}),
    rootDeviceType: 'ebs',
    rootDeviceName: i.rootDeviceName,
    blockDeviceMapping: [
      {
        deviceName: i.rootDeviceName,
        ebs: {
          snapshotId: i.snapshotId,
          volumeSize: i.rootSize,
          deleteOnTermination: true,
          volumeType: 'gp3',
          encrypted: false,
        },
      },
    ],
    virtualizationType: i.virtualizationType,
    hypervisor: 'xen',
    enaSupport: i.enaSupport,
    ...(i.imdsSupport ? { imdsSupport: i.imdsSupport } : {}),
    tagSet: tagSet(i.tags),
  };
}
