import { secretBox } from '../../db/secret-box';
import { DELIVERIES_PENDING_SIGNAL, WEBHOOK_DELIVERY_WORKFLOW_TYPE, webhookEventBody } from '../../domain/webhooks';
import { deliveriesPending, webhookDelivery } from '../../workflows/webhook-delivery';

describe('webhooks', () => {
  it('names the delivery workflow and its signal as activities and the API signal them', () => {
    expect(webhookDelivery.name).toBe(WEBHOOK_DELIVERY_WORKFLOW_TYPE);
    expect(deliveriesPending.name).toBe(DELIVERIES_PENDING_SIGNAL);
  });

  it('gives receivers the event with its stable id and its sequence as a decimal string', () => {
    const body = webhookEventBody({
      sequence: 9_007_199_254_740_993n, xid: 5n, eventId: 'e1', type: 'cloud.minted', cooperativeId: 'c', aggregateId: 'm', createdAt: '2026-01-01T00:00:00.000Z', payload: { amount: '1' },
    });
    expect(body).toEqual({ id: 'e1', type: 'cloud.minted', cooperativeId: 'c', aggregateId: 'm', sequence: '9007199254740993', createdAt: '2026-01-01T00:00:00.000Z', data: { amount: '1' } });
  });

  it('seals secrets so that only the same key opens them, for the same record', () => {
    const box = secretBox('k'.repeat(32));
    const sealed = box.seal('whsec_secret', 'record-1');
    expect(sealed).not.toContain('whsec_secret');
    expect(box.seal('whsec_secret', 'record-1')).not.toBe(sealed);
    expect(box.open(sealed, 'record-1')).toBe('whsec_secret');
    expect(() => box.open(sealed, 'record-2')).toThrow();
    expect(() => secretBox('x'.repeat(32)).open(sealed, 'record-1')).toThrow();
    // A changed ciphertext byte fails authentication. (The first character: the last one of a base64 part may carry only padding bits.)
    const [version, iv, ciphertext, tag] = sealed.split('.') as [string, string, string, string];
    const tampered = [version, iv, (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1), tag].join('.');
    expect(() => box.open(tampered, 'record-1')).toThrow();
  });
});
