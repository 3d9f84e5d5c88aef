import {
  BinaryPayloadConverter,
  CompositePayloadConverter,
  METADATA_ENCODING_KEY,
  UndefinedPayloadConverter,
  ValueError,
  type Payload,
  type PayloadConverterWithEncoding,
} from '@temporalio/common';
import { decode, encode } from '@temporalio/common/lib/encoding';

/**
 * JSON that carries bigint exactly: money crosses workflow and activity boundaries as bigint, never
 * as a JS number. A bigint travels as {"$bigint": "123"}. Workers and clients both use this converter.
 */
class BigIntJsonPayloadConverter implements PayloadConverterWithEncoding {
  readonly encodingType = 'json/plain';

  toPayload(value: unknown): Payload | undefined {
    if (value === undefined) return undefined;
    const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v));
    return { metadata: { [METADATA_ENCODING_KEY]: encode('json/plain') }, data: encode(json) };
  }

  fromPayload<T>(payload: Payload): T {
    if (!payload.data) throw new ValueError('json/plain payload without data');
    return JSON.parse(decode(payload.data), (_k, v: unknown) => {
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const keys = Object.keys(v);
        if (keys.length === 1 && keys[0] === '$bigint') return BigInt((v as { $bigint: string }).$bigint);
      }
      return v;
    }) as T;
  }
}

export const payloadConverter = new CompositePayloadConverter(new UndefinedPayloadConverter(), new BinaryPayloadConverter(), new BigIntJsonPayloadConverter());
