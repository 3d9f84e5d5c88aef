import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Contracts are written once and serve validation, types and the OpenAPI document.
extendZodWithOpenApi(z);

export { z };
