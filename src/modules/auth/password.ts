import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id with OWASP's minimum profile (19 MiB memory, 2 iterations, 1 lane; OWASP Password
 * Storage Cheat Sheet).
 */
// 2 = Algorithm.Argon2id (a const enum, which isolatedModules cannot read).
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Hashes a password into a PHC string (`$argon2id$...`). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let dummyHash: Promise<string> | null = null;

/**
 * Verifies a password. With `phc` null (unknown user) it still verifies against a dummy hash, so
 * that an unknown username and a wrong password take the same time.
 */
export async function verifyPassword(phc: string | null, password: string): Promise<boolean> {
  if (phc === null) {
    dummyHash ??= hashPassword('parley-dummy-password');
    await verify(await dummyHash, password);
    return false;
  }
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}
