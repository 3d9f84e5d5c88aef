import { getAddress, isAddress } from 'viem';
import { normalize } from 'viem/ens';

/** An Ethereum address in its EIP-55 checksummed form; refuses anything else, including a bad checksum. */
export function checksumAddress(input: string): string {
  if (!isAddress(input, { strict: false })) throw new RangeError('must be a 0x-prefixed 20-byte Ethereum address');
  // Mixed case is a checksum claim: it must be right. All-lower or all-upper carries no claim.
  const hex = input.slice(2);
  if (hex !== hex.toLowerCase() && hex !== hex.toUpperCase() && !isAddress(input, { strict: true })) throw new RangeError('has an invalid EIP-55 checksum');
  return getAddress(input);
}

/** An ENS subname (label.parent.eth), normalised per ENSIP-15. */
export function normaliseEnsSubname(input: string): string {
  let name: string;
  try {
    name = normalize(input);
  } catch {
    throw new RangeError('is not a valid ENS name');
  }
  const labels = name.split('.');
  if (labels.length < 3 || labels.at(-1) !== 'eth' || labels.some((l) => l.length === 0)) throw new RangeError('must be a subname such as alice.techne.eth');
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(name)) throw new RangeError('must use letters, digits and hyphens only');
  return name;
}
