/** An EC2 error the fake answers: EC2's code, its message and the HTTP status it comes with. */
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** EC2's wording for ids it does not know, one or several. */
export function notFound(code: string, noun: string, ids: string[]): Ec2Error {
  return ids.length === 1
    ? new Ec2Error(code, `The ${noun} ID '${ids[0]}' does not exist`)
    : new Ec2Error(code, `The ${noun} IDs '${ids.join(', ')}' do not exist`);
}

export function missingParameter(name: string): Ec2Error {
  return new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`);
}

export function invalidValue(name: string, value: string, why?: string): Ec2Error {
  return new Ec2Error(
    'InvalidParameterValue',
    `Value (${value}) for parameter ${name} is invalid.${why ? ` ${why}` : ''}`,
  );
}

/** Checks the shape of an id (`i-` and 8 or 17 hex digits), as EC2 does before looking it up. */
export function checkId(id: string, prefix: string, code: string): void {
  if (!new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`).test(id)) {
    throw new Ec2Error(code, `Invalid id: "${id}" (expecting "${prefix}-...")`);
  }
}
