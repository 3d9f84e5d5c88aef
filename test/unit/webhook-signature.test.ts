import fs from 'node:fs';
import path from 'node:path';
import { signatureHeader, verifySignature } from '../../clients/webhook-signature';
import { projectRoot } from '../../config/project-root';

/** The verification snippet the README gives receivers, run as a receiver would run it. */
function readmeVerifier(): (header: string, rawBody: string | Buffer, secret: string) => boolean {
  const readme = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
  const code = /<!-- webhook-signature-snippet[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!code) throw new Error('the README lost its webhook signature snippet');
  return new Function('require', `${code}\nreturn verifyCoopSignature;`)(require) as ReturnType<typeof readmeVerifier>;
}

describe('webhook signatures', () => {
  const body = JSON.stringify({ id: 'evt', type: 'cloud.minted', data: { amount: '1.5', note: 'naïve ✓' } });
  // Both verifiers read the clock themselves, as a receiver's would.
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const t = nowSeconds();
  const verifiers = { sender: (h: string, b: string, s: string) => verifySignature(h, b, s), readme: readmeVerifier() };

  it.each(Object.entries(verifiers))('%s: accepts the signed body with the secret', (_name, verify) => {
    expect(verify(signatureHeader(['whsec_a'], body, t), body, 'whsec_a')).toBe(true);
  });

  it.each(Object.entries(verifiers))('%s: during a rotation, accepts either secret; never a third', (_name, verify) => {
    const header = signatureHeader(['whsec_new', 'whsec_old'], body, t);
    expect(header.match(/v1=/g)).toHaveLength(2);
    expect([verify(header, body, 'whsec_new'), verify(header, body, 'whsec_old'), verify(header, body, 'whsec_other')]).toEqual([true, true, false]);
  });

  it.each(Object.entries(verifiers))('%s: refuses another body, secret, time, or a malformed header', (_name, verify) => {
    const header = signatureHeader(['whsec_a'], body, t);
    expect(verify(header, body.replace('1.5', '15'), 'whsec_a')).toBe(false);
    expect(verify(header, `${body} `, 'whsec_a')).toBe(false);
    expect(verify(header, body, 'whsec_b')).toBe(false);
    expect(verify(header.replace(`t=${t}`, `t=${t + 1}`), body, 'whsec_a')).toBe(false);
    for (const bad of ['', 'garbage', `t=${t}`, `v1=${'0'.repeat(64)}`, `t=abc,${header.split(',')[1]}`, `t=${t},v1=${'z'.repeat(64)}`, `t=${t},v1=abc`]) {
      expect({ bad, ok: verify(bad, body, 'whsec_a') }).toEqual({ bad, ok: false });
    }
  });

  it.each(Object.entries(verifiers))('%s: refuses a signature older or newer than five minutes', (_name, verify) => {
    const now = nowSeconds();
    expect(verify(signatureHeader(['whsec_a'], body, now - 280), body, 'whsec_a')).toBe(true);
    expect(verify(signatureHeader(['whsec_a'], body, now + 280), body, 'whsec_a')).toBe(true);
    expect(verify(signatureHeader(['whsec_a'], body, now - 320), body, 'whsec_a')).toBe(false);
    expect(verify(signatureHeader(['whsec_a'], body, now + 320), body, 'whsec_a')).toBe(false);
  });

  it('the README snippet takes the raw body as a Buffer too (express.raw)', () => {
    expect(readmeVerifier()(signatureHeader(['whsec_a'], body, nowSeconds()), Buffer.from(body), 'whsec_a')).toBe(true);
  });
});
