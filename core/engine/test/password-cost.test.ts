import { describe, expect, it } from 'vitest';
import { passwordParams, weakPasswordHashing } from '../src/auth/passwords.js';

describe('the password hashing cost', () => {
  it("is OWASP's scrypt N=2^17 unless SLIPWAY_PASSWORD_SCRYPT_COST says otherwise", () => {
    expect(passwordParams({})).toEqual({ N: 2 ** 17, r: 8, p: 1 });
    expect(passwordParams({ SLIPWAY_PASSWORD_SCRYPT_COST: '' })).toEqual({ N: 2 ** 17, r: 8, p: 1 });
    expect(passwordParams({ SLIPWAY_PASSWORD_SCRYPT_COST: '18' }).N).toBe(2 ** 18);
    expect(weakPasswordHashing({})).toBeUndefined();
    expect(weakPasswordHashing({ SLIPWAY_PASSWORD_SCRYPT_COST: '17' })).toBeUndefined();
  });

  it('warns below 17 and refuses what is not a cost from 14 to 20, naming the variable', () => {
    expect(weakPasswordHashing({ SLIPWAY_PASSWORD_SCRYPT_COST: '14' })).toMatch(
      /SLIPWAY_PASSWORD_SCRYPT_COST=14 .* weaker than OWASP's minimum \(17\); use it for test rigs only/,
    );
    for (const bad of ['13', '21', 'fast', '16.5']) {
      expect(() => passwordParams({ SLIPWAY_PASSWORD_SCRYPT_COST: bad }), bad).toThrow(
        /SLIPWAY_PASSWORD_SCRYPT_COST must be a whole number from 14 to 20/,
      );
    }
  });
});
