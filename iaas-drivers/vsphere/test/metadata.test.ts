import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SlipwayError, encodeAgentSettings } from '@slipway/contracts';
import { VsphereGuestInfo, vmtoolsdReader, type CommandRunner } from '../src/metadata.js';
import { placeholderSettings } from './helpers.js';

/** A vmtoolsd that knows these guestinfo keys, answering as open-vm-tools does. */
function vmtoolsd(values: Record<string, string>, calls: string[][] = []): CommandRunner {
  return async (command, args) => {
    calls.push([command, ...args]);
    const key = /^info-get (.+)$/.exec(args[1] ?? '')?.[1] ?? '';
    if (key in values) return { code: 0, stdout: `${values[key]}\n`, stderr: '' };
    return { code: 1, stdout: '', stderr: 'No value found\n' };
  };
}

describe('the agent side: guestinfo through VMware Tools', () => {
  it('runs vmtoolsd --cmd "info-get guestinfo.userdata" and decodes base64 settings', async () => {
    const settings = placeholderSettings();
    const calls: string[][] = [];
    const source = new VsphereGuestInfo(
      vmtoolsdReader({
        run: vmtoolsd(
          {
            'guestinfo.userdata': encodeAgentSettings(settings),
            'guestinfo.userdata.encoding': 'base64',
            'guestinfo.slipway.vm_id': 'slipway-vm-1',
          },
          calls,
        ),
      }),
    );
    expect(await source.readSettings()).toEqual(settings);
    expect(await source.instanceId()).toBe('slipway-vm-1');
    expect(calls).toContainEqual(['vmtoolsd', '--cmd', 'info-get guestinfo.userdata']);
    expect(source.kind).toBe('vsphere-guestinfo(vmtoolsd)');
  });

  it("reads gzip+base64 and plain JSON as cloud-init's VMware datasource does", async () => {
    const settings = placeholderSettings();
    const gz = gzipSync(JSON.stringify(settings)).toString('base64');
    expect(
      await new VsphereGuestInfo(
        vmtoolsdReader({ run: vmtoolsd({ 'guestinfo.userdata': gz, 'guestinfo.userdata.encoding': 'gz+b64' }) }),
      ).readSettings(),
    ).toEqual(settings);
    expect(
      await new VsphereGuestInfo(
        vmtoolsdReader({ run: vmtoolsd({ 'guestinfo.userdata': JSON.stringify(settings) }) }),
      ).readSettings(),
    ).toEqual(settings);
  });

  it('says NotFound for a VM without guestinfo.userdata, and Internal when VMware Tools is missing', async () => {
    const none = await new VsphereGuestInfo(vmtoolsdReader({ run: vmtoolsd({}) }))
      .readSettings()
      .catch((e: unknown) => e);
    expect(SlipwayError.is(none, 'NotFound')).toBe(true);
    const missing = await new VsphereGuestInfo(vmtoolsdReader({ command: '/nonexistent/vmtoolsd' }))
      .readSettings()
      .catch((e: unknown) => e);
    expect(SlipwayError.is(missing, 'Internal')).toBe(true);
    expect((missing as SlipwayError).message).toContain('open-vm-tools');
  });

  it('refuses an unknown encoding', async () => {
    const error = await new VsphereGuestInfo(
      vmtoolsdReader({ run: vmtoolsd({ 'guestinfo.userdata': 'x', 'guestinfo.userdata.encoding': 'rot13' }) }),
    )
      .readSettings()
      .catch((e: unknown) => e);
    expect(SlipwayError.is(error, 'InvalidConfig')).toBe(true);
  });
});
