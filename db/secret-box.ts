import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets the application must read back in clear, such as webhook signing secrets (an HMAC needs the
 * secret itself, so a hash will not do), are stored sealed: AES-256-GCM under a key of the
 * application's (WEBHOOK_SECRETS_KEY), never in the database. A database dump or backup alone does not
 * reveal them. The record's id is bound in as associated data, so a sealed value copied to another
 * record does not open there.
 * Stored form: `v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 */
export interface SecretBox {
  seal(plaintext: string, recordId: string): string;
  open(sealed: string, recordId: string): string;
}

export function secretBox(key: string): SecretBox {
  const aesKey = createHash('sha256').update(key).digest();
  return {
    seal(plaintext, recordId) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', aesKey, iv).setAAD(Buffer.from(recordId));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, ciphertext, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed, recordId) {
      const [version, iv, ciphertext, tag] = sealed.split('.');
      if (version !== 'v1' || !iv || !ciphertext || !tag) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', aesKey, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(recordId));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
