import { chainConnector } from '../../clients/chain';
import { listSamples } from '../../db/stream-samples';
import { deactivateStream, findStream, listStreams } from '../../db/streams';
import { requireCooperativeAccess } from '../auth/authenticate';
import { CooperativeScope } from '../contracts/ledger';
import { RegisterStreamBody, SampleListQuery, SamplePage, sampleView, StreamListQuery, StreamPage, StreamParams, StreamView, streamView } from '../contracts/streams';
import type { ApiDependencies } from '../dependencies';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import { registerStream } from '../services/streams';

const TAG = 'Streams';
/** A cooperative's admins keep its register; operators any cooperative's. */
const ROLES = ['coop_admin', 'operator'] as const;
const BASE = '/v1/cooperatives/:cooperativeId/streams';

export function streamRoutes(deps: ApiDependencies) {
  const withChain = { ...deps, chain: deps.chain ?? chainConnector(deps.config.chain) };
  return [
    defineRoute({
      method: 'post',
      path: BASE,
      summary: 'Register a Superfluid flow as a stream the cooperative books; sampling starts where the chain stands now',
      tag: TAG,
      roles: ROLES,
      params: CooperativeScope,
      body: RegisterStreamBody,
      idempotencyKey: 'required',
      responses: { 200: { description: 'Replayed: the first result', schema: StreamView }, 201: { description: 'Registered', schema: StreamView } },
      async handler({ params, body, auth, idempotencyKey, res }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const made = await registerStream(withChain, { ...body, cooperativeId: params.cooperativeId, idempotencyKey: idempotencyKey! });
        res.setHeader('Idempotent-Replayed', String(made.replayed));
        return { status: made.replayed ? 200 : 201, body: streamView(made.stream) };
      },
    }),
    defineRoute({
      method: 'get',
      path: BASE,
      summary: "A cooperative's streams, newest first, paginated by cursor",
      tag: TAG,
      roles: ROLES,
      params: CooperativeScope,
      query: StreamListQuery,
      responses: { 200: { description: 'A page of streams', schema: StreamPage } },
      async handler({ params, query, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const page = await listStreams(deps.pool, params.cooperativeId, query);
        return { status: 200, body: { items: page.items.map(streamView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${BASE}/:streamId`,
      summary: 'A stream',
      tag: TAG,
      roles: ROLES,
      params: StreamParams,
      responses: { 200: { description: 'The stream', schema: StreamView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        const stream = await findStream(deps.pool, params.cooperativeId, params.streamId);
        if (!stream) throw new ApiError('NOT_FOUND', 'Stream not found');
        return { status: 200, body: streamView(stream) };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${BASE}/:streamId/samples`,
      summary: "A stream's samples, newest interval first, paginated by cursor: the wei each interval moved, its price and the µUSD posted",
      tag: TAG,
      roles: ROLES,
      params: StreamParams,
      query: SampleListQuery,
      responses: { 200: { description: 'A page of samples', schema: SamplePage } },
      async handler({ params, query, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        if (!(await findStream(deps.pool, params.cooperativeId, params.streamId))) throw new ApiError('NOT_FOUND', 'Stream not found');
        const page = await listSamples(deps.pool, params.cooperativeId, params.streamId, query);
        return { status: 200, body: { items: page.items.map(sampleView), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: 'post',
      path: `${BASE}/:streamId/deactivate`,
      summary: 'Stop sampling a stream; what it posted stays (repeating it changes nothing)',
      tag: TAG,
      roles: ROLES,
      params: StreamParams,
      responses: { 200: { description: 'Deactivated', schema: StreamView } },
      async handler({ params, auth }) {
        requireCooperativeAccess(auth, params.cooperativeId);
        return { status: 200, body: streamView(await deactivateStream(deps.pool, params.cooperativeId, params.streamId)) };
      },
    }),
  ];
}
