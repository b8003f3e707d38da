/** An NSX API error: the fake answers it with NSX's body `{httpStatus, error_code, module_name, error_message, related_errors}`. */
export class NsxApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
    readonly moduleName = 'policy',
    readonly related: NsxApiError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return {
      httpStatus: HTTP_STATUS[this.status] ?? String(this.status),
      error_code: this.errorCode,
      module_name: this.moduleName,
      error_message: this.message,
      ...(this.related.length
        ? {
            related_errors: this.related.map((r) => ({
              httpStatus: HTTP_STATUS[r.status],
              error_code: r.errorCode,
              module_name: r.moduleName,
              error_message: r.message,
            })),
          }
        : {}),
    };
  }
}

const HTTP_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

export const notFound = (path: string) => new NsxApiError(404, 500090, `The path=[${path}] is invalid.`);
export const invalidReference = (from: string, to: string) =>
  new NsxApiError(400, 500012, `Invalid path ${to} referenced by ${from}: the object does not exist.`);
export const parentMissing = (path: string, parent: string) =>
  new NsxApiError(400, 500080, `Parent object path=[${parent}] of ${path} does not exist; create the parent first.`);
export const stillReferenced = (path: string, by: string[]) =>
  new NsxApiError(
    400,
    500030,
    `The object path=[${path}] cannot be deleted as either it has children or it is being referenced by other objects path=[${by.join(',')}].`,
  );
export const staleRevision = (path: string) =>
  new NsxApiError(412, 604, `The object ${path} was modified by somebody else. Please retry.`, 'common-services');
export const revisionRequired = (path: string) =>
  new NsxApiError(
    400,
    500045,
    `Object ${path} already exists; a PUT that updates it must carry its current _revision.`,
  );
export const throttled = (client: string, retryAfterSeconds: number) =>
  new NsxApiError(429, 102, `Client '${client}' exceeded request rate of 100 per second`, 'common-services', [], {
    'retry-after': String(retryAfterSeconds),
  });
export const unavailable = () =>
  new NsxApiError(503, 101, 'Some appliance components are not functioning properly.', 'common-services');
export const badCredentials = () =>
  new NsxApiError(
    403,
    403,
    'The credentials were incorrect or the account specified has been locked.',
    'common-services',
  );
