/** Workers and clients must agree on how payloads are encoded (bigint-safe JSON). */
export const dataConverter = { payloadConverterPath: require.resolve('../workflows/payload-converter') };
