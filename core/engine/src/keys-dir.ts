import { basename, dirname, join } from 'node:path';

/**
 * The default directory for key material: beside the home, not in it (`/var/lib/slipway` keeps its keys in
 * `/var/lib/slipway-keys`), so neither `slipway backup` nor a copy of the home takes the key along with
 * the data it opens, and removing the home keeps the key. $SLIPWAY_KEYS or `--keys` picks another place.
 */
export function defaultKeysDir(home: string): string {
  return join(dirname(home), `${basename(home)}-keys`);
}
