import { randomUUID } from 'node:crypto';
import { SESSION_COOKIE } from '../../src/session.js';
import { argText, type MethodHandler } from '../context.js';
import { VimFaultError } from '../faults.js';
import { SERVICE_CONTENT_REFS } from '../seed.js';
import { dateTime, el, obj, ref } from '../xml-out.js';

/** The vCenter the fake claims to be. */
export const FAKE_ABOUT = {
  version: '8.0.2',
  build: '22617221',
  apiVersion: '8.0.2.0',
  instanceUuid: 'b1a5c0de-5e55-4a1b-9c0d-51a9e0b0c0de',
};

/** ServiceInstance.RetrieveServiceContent, SessionManager.Login / Logout. */
export const sessionMethods: Record<string, MethodHandler> = {
  RetrieveServiceContent: {
    anonymous: true,
    handle: () => {
      const r = SERVICE_CONTENT_REFS;
      const about = obj(
        'about',
        'AboutInfo',
        el('name', 'VMware vCenter Server'),
        el('fullName', `VMware vCenter Server ${FAKE_ABOUT.version} build-${FAKE_ABOUT.build} (Slipway fake)`),
        el('vendor', 'VMware, Inc.'),
        el('version', FAKE_ABOUT.version),
        el('build', FAKE_ABOUT.build),
        el('localeVersion', 'INTL'),
        el('localeBuild', '000'),
        el('osType', 'linux-x64'),
        el('productLineId', 'vpx'),
        el('apiType', 'VirtualCenter'),
        el('apiVersion', FAKE_ABOUT.apiVersion),
        el('instanceUuid', FAKE_ABOUT.instanceUuid),
        el('licenseProductName', 'VMware VirtualCenter Server'),
        el('licenseProductVersion', '8.0'),
      );
      return {
        body: obj(
          'returnval',
          'ServiceContent',
          ref('rootFolder', r.rootFolder),
          ref('propertyCollector', r.propertyCollector),
          ref('viewManager', r.viewManager),
          about,
          ref('sessionManager', r.sessionManager),
          ref('taskManager', r.taskManager),
          ref('customFieldsManager', r.customFieldsManager),
          ref('searchIndex', r.searchIndex),
          ref('fileManager', r.fileManager),
          ref('virtualDiskManager', r.virtualDiskManager),
        ),
      };
    },
  },
  Login: {
    anonymous: true,
    handle: (ctx, call) => {
      const userName = argText(call, 'userName');
      const password = argText(call, 'password');
      if (userName !== ctx.inventory.user.name || password !== ctx.inventory.user.password) {
        throw new VimFaultError('InvalidLogin', 'Cannot complete login due to an incorrect user name or password.');
      }
      const key = randomUUID();
      const now = Date.now();
      ctx.inventory.sessions.set(key, { key, userName, lastActive: now });
      return {
        headers: { 'set-cookie': `${SESSION_COOKIE}="${key}"; Path=/; HttpOnly; Secure;` },
        body: obj(
          'returnval',
          'UserSession',
          el('key', key),
          el('userName', userName),
          el('fullName', 'Slipway Automation'),
          el('loginTime', dateTime(now)),
          el('lastActiveTime', dateTime(now)),
          el('locale', 'en'),
          el('messageLocale', 'en'),
          el('extensionSession', false),
          el('ipAddress', '127.0.0.1'),
          el('userAgent', 'slipway'),
          el('callCount', 0),
        ),
      };
    },
  },
  Logout: {
    handle: (ctx, call) => {
      if (call.session) ctx.inventory.sessions.delete(call.session.key);
      return { body: '' };
    },
  },
};
