/** Workers and clients must agree on how payloads are encoded (bigint-safe JSON, bundled into workflow code too). */
export const dataConverter = { payloadConverterPath: require.resolve('./payload-converter') };
