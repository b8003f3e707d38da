/** The instance types the fake launches: their vCPUs and memory, as DescribeInstanceTypes would give them. */
export const INSTANCE_TYPES: ReadonlyMap<string, { vcpus: number; memoryMib: number }> = new Map([
  ...sizes('t3', [
    ['nano', 2, 0.5],
    ['micro', 2, 1],
    ['small', 2, 2],
    ['medium', 2, 4],
    ['large', 2, 8],
    ['xlarge', 4, 16],
    ['2xlarge', 8, 32],
  ]),
  ...sizes('t3a', [
    ['nano', 2, 0.5],
    ['micro', 2, 1],
    ['small', 2, 2],
    ['medium', 2, 4],
    ['large', 2, 8],
    ['xlarge', 4, 16],
    ['2xlarge', 8, 32],
  ]),
  ...sizes('m5', general()),
  ...sizes('m6i', [...general(), ['32xlarge', 128, 512]]),
  ...sizes('c5', [
    ['large', 2, 4],
    ['xlarge', 4, 8],
    ['2xlarge', 8, 16],
    ['4xlarge', 16, 32],
    ['9xlarge', 36, 72],
  ]),
  ...sizes('r5', [
    ['large', 2, 16],
    ['xlarge', 4, 32],
    ['2xlarge', 8, 64],
    ['4xlarge', 16, 128],
  ]),
]);

function general(): Array<[string, number, number]> {
  return [
    ['large', 2, 8],
    ['xlarge', 4, 16],
    ['2xlarge', 8, 32],
    ['4xlarge', 16, 64],
    ['8xlarge', 32, 128],
    ['12xlarge', 48, 192],
    ['16xlarge', 64, 256],
    ['24xlarge', 96, 384],
  ];
}

function sizes(
  family: string,
  list: Array<[string, number, number]>,
): Array<[string, { vcpus: number; memoryMib: number }]> {
  return list.map(([size, vcpus, gib]) => [`${family}.${size}`, { vcpus, memoryMib: gib * 1024 }]);
}
