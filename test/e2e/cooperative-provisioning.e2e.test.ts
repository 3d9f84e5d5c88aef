import { randomUUID } from 'node:crypto';
import { startTestApi, startTestWorker, type TestApi, type TestWorker } from '../harness/stack';
import { randomAddress } from '../harness/ledger';

/**
 * End to end over HTTP: the API starts the cooperative-provisioning workflow, the worker's activities
 * write to PostgreSQL, and the API returns what was written.
 */
describe('cooperative provisioning, end to end', () => {
  let api: TestApi;
  let worker: TestWorker;
  let operator: string;

  beforeAll(async () => {
    [api, worker] = await Promise.all([startTestApi(), startTestWorker()]);
    operator = await api.token({ subject: 'op-1', role: 'operator' });
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.stop()]);
  });

  const slug = () => `coop-${randomUUID().slice(0, 8)}`;

  it('creates a cooperative through the workflow and returns the stored row', async () => {
    const s = slug();
    const created = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: s, name: 'Techne Cooperative' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ slug: s, name: 'Techne Cooperative', status: 'active' });
    expect(created.headers.get('x-request-id')).toBeTruthy();

    const { rows } = await api.pool.query('SELECT id, slug, name, status FROM cooperatives WHERE slug = $1', [s]);
    expect(rows).toEqual([{ id: created.body.id, slug: s, name: 'Techne Cooperative', status: 'active' }]);

    const fetched = await api.request('GET', `/v1/cooperatives/${created.body.id}`, { token: operator });
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);

    // The run is findable the way an operator finds it in the Temporal UI.
    const handle = api.temporal.workflow.getHandle(`cooperative:${s}`);
    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.searchAttributes).toMatchObject({ CooperativeId: [created.body.id], BusinessStatus: ['active'] });
    const found: string[] = [];
    for await (const wf of api.temporal.workflow.list({ query: `CooperativeId = "${created.body.id}"` })) found.push(wf.workflowId);
    expect(found).toEqual([`cooperative:${s}`]);
  });

  it('treats a repeated request as a replay and another name for the slug as a conflict', async () => {
    const s = slug();
    const first = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: s, name: 'First' } });
    const again = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: s, name: 'First' } });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);

    const other = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: s, name: 'Second' } });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('CONFLICT');
    const { rows } = await api.pool.query('SELECT name FROM cooperatives WHERE slug = $1', [s]);
    expect(rows).toEqual([{ name: 'First' }]);
  });

  it('runs concurrent identical requests as one provisioning', async () => {
    const s = slug();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: s, name: 'Racing' } })),
    );
    // Under load a request may stop waiting and answer 202 (decision 0003); all join the one provisioning.
    for (const r of results) expect([200, 201, 202]).toContain(r.status);
    const done = await api.temporal.workflow.getHandle(`cooperative:${s}`).result();
    expect(new Set([done.id, ...results.filter((r) => r.status !== 202).map((r) => r.body.id)]).size).toBe(1);
    const { rows } = await api.pool.query('SELECT count(*)::int AS n FROM cooperatives WHERE slug = $1', [s]);
    expect(rows[0].n).toBe(1);
  });

  it('answers concurrent requests for one slug with different names with one cooperative and a conflict for the others', async () => {
    const s = slug();
    const results = await Promise.all(['Alpha', 'Beta', 'Alpha', 'Beta'].map((name) => api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: s, name } })));
    const done = await api.temporal.workflow.getHandle(`cooperative:${s}`).result();
    for (const [i, r] of results.entries()) {
      const name = i % 2 ? 'Beta' : 'Alpha';
      if (r.status === 202) continue;
      // Each answer matches its own request: the cooperative it asked for, or a conflict.
      if (name === done.name) expect([200, 201]).toContain(r.status);
      else expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 409, code: 'CONFLICT' });
    }
    const { rows } = await api.pool.query('SELECT count(*)::int AS n FROM cooperatives WHERE slug = $1', [s]);
    expect(rows[0].n).toBe(1);
  });

  it('enforces roles and the caller cooperative', async () => {
    const s = slug();
    const created = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: s, name: 'Mine' } });
    const admin = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: created.body.id });
    const memberId = (await api.request('POST', `/v1/cooperatives/${created.body.id}/members`, { token: admin, body: { address: randomAddress() } })).body.id;
    const member = await api.token({ subject: memberId, role: 'member', cooperativeId: created.body.id });
    const other = (await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: slug(), name: 'Other' } })).body.id;
    const stranger = await api.token({ subject: 'admin', role: 'coop_admin', cooperativeId: other });

    const byMember = await api.request('POST', '/v1/cooperatives', { token: member, body: { slug: slug(), name: 'Nope' } });
    expect(byMember.status).toBe(403);
    expect(byMember.body.error.code).toBe('FORBIDDEN');

    expect((await api.request('GET', `/v1/cooperatives/${created.body.id}`, { token: member })).status).toBe(200);
    const cross = await api.request('GET', `/v1/cooperatives/${created.body.id}`, { token: stranger });
    expect(cross.status).toBe(403);

    const anonymous = await api.request('GET', `/v1/cooperatives/${created.body.id}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('rejects bad input with a stable code and writes nothing', async () => {
    const slugs = [slug(), slug()];
    const cases = [
      { rawBody: `{"slug": "${slugs[0]}", "name": ` },
      { body: { slug: 'Bad Slug!', name: 'x' } },
      { body: { slug: slugs[0], name: '' } },
      { body: { slug: slugs[0], name: 'x', extra: true } },
      { body: { slug: 42, name: 'x' } },
      { body: [] },
    ];
    for (const c of cases) {
      const res = await api.request('POST', '/v1/cooperatives', { token: operator, ...c });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(JSON.stringify(res.body)).not.toMatch(/at .+\.(ts|js):\d+/);
    }
    const huge = await api.request('POST', '/v1/cooperatives', { token: operator, body: { slug: slugs[1], name: 'x'.repeat(200_000) } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const badId = await api.request('GET', '/v1/cooperatives/not-a-uuid', { token: operator });
    expect(badId.status).toBe(400);
    const unknown = await api.request('GET', '/v1/nothing-here', { token: operator });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    expect((await api.pool.query('SELECT count(*)::int AS n FROM cooperatives WHERE slug = ANY($1)', [slugs])).rows[0].n).toBe(0);
  });

  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    expect((await api.request('GET', '/healthz')).status).toBe(200);
    const ready = await api.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });

    const doc = await api.request('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/cooperatives', '/v1/cooperatives/{cooperativeId}']));
    expect(doc.body.paths['/v1/cooperatives'].post.requestBody.content['application/json'].schema).toBeDefined();

    const metrics = await api.request('GET', '/metrics');
    expect(metrics.body).toContain('http_requests_total');
  });
});
