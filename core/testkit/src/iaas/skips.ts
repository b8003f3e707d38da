/** A test the driver's package chooses not to run, and why. */
export interface ConformanceSkip {
  /** Full test names as `group > test`, e.g. `disk > snapshot round-trip`. */
  tests: string[];
  reason: string;
}

/** Problems with the skip list: a skip without a reason, or naming a test the suite does not have. */
export function checkSkips(skips: readonly ConformanceSkip[], knownTests: readonly string[]): string[] {
  const problems: string[] = [];
  skips.forEach((skip, index) => {
    const names = Array.isArray(skip.tests) ? skip.tests : [];
    if (typeof skip.reason !== 'string' || skip.reason.trim() === '') {
      problems.push(
        `skip[${index}] (${names.join(', ') || 'no tests'}) has no reason: say why the driver cannot pass it`,
      );
    }
    if (names.length === 0) problems.push(`skip[${index}] names no tests`);
    for (const name of names) {
      if (!knownTests.includes(name))
        problems.push(`skip[${index}] names "${name}", which is not a test of this suite`);
    }
  });
  return problems;
}

/** The reason a test is skipped for, taking only skips that have one (a reasonless skip skips nothing). */
export function skipReason(skips: readonly ConformanceSkip[], test: string): string | undefined {
  for (const skip of skips) {
    if (
      typeof skip.reason === 'string' &&
      skip.reason.trim() !== '' &&
      Array.isArray(skip.tests) &&
      skip.tests.includes(test)
    ) {
      return skip.reason.trim();
    }
  }
  return undefined;
}
