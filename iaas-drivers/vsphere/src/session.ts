import { SlipwayError } from '@slipway/contracts';
import {
  PLUGIN,
  faultToError,
  malformedResponse,
  pageText,
  readSoapFault,
  transportError,
  type PermanentCode,
  type VimFault,
} from './errors.js';
import { bodyContent, envelope, moRef, type MoRef, type SoapValue } from './soap.js';
import { withSignal } from './signals.js';
import type { FetchTls } from './tls.js';
import { child, childText, type XmlElement } from './xml.js';

/** The cookie vCenter's SessionManager sets at Login and wants on every later call. */
export const SESSION_COOKIE = 'vmware_soap_session';
/** Every call starts from this well-known object. */
export const SERVICE_INSTANCE: MoRef = moRef('ServiceInstance', 'ServiceInstance');

/** The parts of ServiceContent the driver uses. */
export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  sessionManager: MoRef;
  searchIndex: MoRef;
  fileManager: MoRef;
  virtualDiskManager: MoRef;
  customFieldsManager: MoRef;
  about: { fullName: string; apiVersion: string; apiType: string; instanceUuid?: string };
}

export interface CallOptions {
  signal?: AbortSignal;
  /** The verb's own code for a permanent refusal (a refused clone is `VmCreationFailed`). */
  permanent?: PermanentCode;
}

/**
 * One vCenter session over plain fetch: RetrieveServiceContent (no session needed), then SessionManager.Login,
 * whose `vmware_soap_session` cookie every later call carries. A call refused with NotAuthenticated (the
 * session expired or vCenter restarted) logs in again and is sent once more: a session refresh, not a retry;
 * a second refusal is final.
 */
export class VimSession {
  private content?: Promise<ServiceContent>;
  private login?: Promise<string>;
  private cookie?: string;
  /** Set once vCenter refused the credential: it cannot change while this driver lives (see session()). */
  private refused?: SlipwayError;

  constructor(
    private readonly url: string,
    private readonly credential: { username: string; password: string },
    private readonly tls: FetchTls,
    private readonly apiVersion: string,
  ) {}

  /** ServiceContent, read once per session object. */
  serviceContent(signal?: AbortSignal): Promise<ServiceContent> {
    if (!this.content) {
      const pending = this.post(
        'RetrieveServiceContent',
        SERVICE_INSTANCE,
        {},
        undefined,
        AbortSignal.timeout(60_000),
      ).then((response) => readServiceContent(child(response, 'returnval')));
      this.content = pending;
      pending.catch(() => {
        if (this.content === pending) this.content = undefined;
      });
    }
    return withSignal(this.content, signal, 'RetrieveServiceContent');
  }

  /** Calls a vim25 method with the session, logging in first when there is none. Returns the `…Response` element. */
  async call(
    method: string,
    self: MoRef,
    args: Record<string, SoapValue>,
    options: CallOptions = {},
  ): Promise<XmlElement> {
    for (let attempt = 0; ; attempt++) {
      const cookie = await this.session(options.signal);
      try {
        return await this.post(method, self, args, cookie, options.signal, options.permanent);
      } catch (error) {
        if (attempt === 0 && faultTypeOf(error) === 'NotAuthenticated') {
          if (this.cookie === cookie) this.invalidate();
          continue;
        }
        throw error;
      }
    }
  }

  /** Ends the session on vCenter (sessions are a limited resource there). Errors are ignored: the driver is going away. */
  async logout(): Promise<void> {
    const cookie = this.cookie;
    if (!cookie || !this.content) return;
    this.invalidate();
    try {
      const content = await this.content;
      await this.post('Logout', content.sessionManager, {}, cookie, AbortSignal.timeout(5_000));
    } catch {
      // vCenter drops idle sessions by itself.
    }
  }

  /** Whether a session cookie is held; for tests and diagnostics. */
  get loggedIn(): boolean {
    return this.cookie !== undefined;
  }

  private session(signal?: AbortSignal): Promise<string> {
    if (this.cookie) return Promise.resolve(this.cookie);
    // vCenter SSO locks an account after a few failed logins (5 by default): the credential was read once at
    // create(), so sending it again could only lock the account. A new driver reads the credential again.
    if (this.refused) return Promise.reject(this.refused);
    if (!this.login) {
      // Shared by concurrent calls, so one caller's abort must not fail the others: it runs on its own deadline.
      const pending = this.doLogin(AbortSignal.timeout(60_000));
      this.login = pending;
      pending
        .then(
          (cookie) => {
            this.cookie = cookie;
          },
          (error: unknown) => {
            if (faultTypeOf(error) === 'InvalidLogin') this.refused = error as SlipwayError;
          },
        )
        .finally(() => {
          if (this.login === pending) this.login = undefined;
        });
    }
    return withSignal(this.login, signal, 'Login');
  }

  private invalidate(): void {
    this.cookie = undefined;
    this.login = undefined;
  }

  private async doLogin(signal: AbortSignal): Promise<string> {
    const content = await this.serviceContent(signal);
    const cookies: string[] = [];
    await this.post(
      'Login',
      content.sessionManager,
      { userName: this.credential.username, password: this.credential.password },
      undefined,
      signal,
      'CloudError',
      cookies,
    );
    const cookie = cookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    if (!cookie) {
      throw new SlipwayError(
        'CloudError',
        `vSphere Login succeeded but set no ${SESSION_COOKIE} cookie; is ${this.url} a vCenter /sdk endpoint?`,
        { plugin: PLUGIN },
      );
    }
    return cookie;
  }

  private async post(
    method: string,
    self: MoRef,
    args: Record<string, SoapValue>,
    cookie: string | undefined,
    signal: AbortSignal | undefined,
    permanent?: PermanentCode,
    cookies?: string[],
  ): Promise<XmlElement> {
    if (signal?.aborted) throw transportError(signal.reason, method, this.url, signal);
    const headers: Record<string, string> = {
      'content-type': 'text/xml; charset=utf-8',
      soapaction: `urn:vim25/${this.apiVersion}`,
      accept: 'text/xml',
    };
    if (cookie) headers.cookie = cookie;
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers,
        body: envelope(method, self, args),
        signal,
        ...this.tls.init,
      } as RequestInit);
      text = await response.text();
    } catch (error) {
      throw transportError(error, method, this.url, signal);
    }
    if (cookies) for (const c of response.headers.getSetCookie()) cookies.push(c.split(';')[0]!.trim());
    const content = bodyContent(text);
    if (response.status === 200 && content && content.name === `${method}Response`) return content;
    if (content?.name === 'Fault') throw faultToError(readSoapFault(content, method, response.status), permanent);
    if (response.status === 200) throw malformedResponse(method, response.status, text);
    const retryAfter = Number(response.headers.get('retry-after'));
    const fault: VimFault = {
      method,
      source: 'http',
      status: response.status,
      message: pageText(text) || response.statusText || `HTTP ${response.status}`,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    };
    throw faultToError(fault, permanent);
  }
}

/** The vim25 fault type behind a SlipwayError this driver raised, if any. */
export function faultTypeOf(error: unknown): string | undefined {
  if (!SlipwayError.is(error)) return undefined;
  return (error.cause as VimFault | undefined)?.faultType;
}

function readServiceContent(content: XmlElement | undefined): ServiceContent {
  const ref = (name: string): MoRef => {
    const element = child(content, name);
    if (!element?.attrs.type)
      throw new SlipwayError(
        'CloudError',
        `vSphere ServiceContent has no ${name}: is this a vCenter (not a standalone ESXi host)?`,
        { plugin: PLUGIN },
      );
    return { type: element.attrs.type, value: element.text };
  };
  const about = child(content, 'about');
  return {
    rootFolder: ref('rootFolder'),
    propertyCollector: ref('propertyCollector'),
    sessionManager: ref('sessionManager'),
    searchIndex: ref('searchIndex'),
    fileManager: ref('fileManager'),
    virtualDiskManager: ref('virtualDiskManager'),
    customFieldsManager: ref('customFieldsManager'),
    about: {
      fullName: childText(about, 'fullName') ?? 'unknown',
      apiVersion: childText(about, 'apiVersion') ?? 'unknown',
      apiType: childText(about, 'apiType') ?? 'unknown',
      instanceUuid: childText(about, 'instanceUuid'),
    },
  };
}
