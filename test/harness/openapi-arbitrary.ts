import fc from 'fast-check';

/**
 * fast-check arbitraries from the API's own OpenAPI document: values shaped like what each route
 * declares (so requests get past the first check and reach deeper code), mixed with hostile values of
 * every kind (wrong types, NUL bytes, lone surrogates, bidirectional overrides, huge numbers, long text).
 */
type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  example?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
};

export const hostileString = fc.constantFrom(
  '', ' ', '\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\u202Eevil', 'zero\u200Bwidth', 'line\r\nbreak', '%ff', '%', '../../etc/passwd', "'; DROP TABLE lots; --",
  '9'.repeat(40), '-1', '1e308', '0.0000001', 'NaN', '12.5', '0', '1', 'x'.repeat(5_000), '{"a":1}', '😀'.repeat(50), '0x' + 'f'.repeat(40),
  '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '2026-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z',
);
export const hostileValue = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53 + 1, 1e308, -1e308, [], {}, [null], { __proto__: 1 }, { constructor: { prototype: 1 } }),
  fc.jsonValue({ maxDepth: 3 }),
);

export function arbitraryFor(schema: JsonSchema | undefined, components: Record<string, JsonSchema>, known: string[], depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return hostileValue;
  if (schema.$ref) return arbitraryFor(components[schema.$ref.split('/').pop()!], components, known, depth + 1);
  const variants = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  if (variants.length > 0) return fc.oneof(...variants.map((v) => arbitraryFor(v, components, known, depth + 1)), hostileValue);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  const shaped = (() => {
    if (schema.enum) return fc.constantFrom(...schema.enum);
    switch (type) {
      case 'string':
        if (schema.format === 'uuid') return fc.oneof(fc.constantFrom(...known), fc.uuid());
        if (schema.format === 'date-time') return fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constant(new Date().toISOString()));
        return fc.oneof(...(schema.example !== undefined ? [fc.constant(schema.example)] : []), fc.string({ maxLength: 30 }), fc.stringMatching(/^\d{1,6}(\.\d{1,7})?$/));
      case 'integer':
      case 'number':
        return fc.oneof(fc.integer({ min: schema.minimum ?? -10, max: schema.maximum ?? 100_000 }), fc.integer(), fc.double());
      case 'boolean':
        return fc.boolean();
      case 'array':
        return fc.array(arbitraryFor(schema.items, components, known, depth + 1), { maxLength: 4 });
      case 'object': {
        const props = Object.entries(schema.properties ?? {});
        const record = Object.fromEntries(props.map(([k, v]) => [k, arbitraryFor(v, components, known, depth + 1)]));
        const required = new Set(schema.required ?? []);
        return fc.record(record, { requiredKeys: props.map(([k]) => k).filter((k) => required.has(k)) });
      }
      default:
        return hostileValue;
    }
  })();
  // Mostly well-shaped, so requests get deep; often hostile, so every check is tried.
  return fc.oneof({ arbitrary: shaped, weight: 3 }, { arbitrary: hostileValue, weight: 1 });
}
