import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import express, { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { ApiDependencies } from './dependencies';
import { errorHandler, notFoundHandler } from './errors';
import { networkReport } from '../db/network-reports';
import { createMetrics } from './metrics';
import { buildOpenApiDocument } from './openapi';
import { tokenAuthenticator } from './auth/authenticate';
import { federatedAuthenticator } from './auth/federated';
import { principalVerifier } from './auth/principal';
import { countedByRoute, limiterBeforeRoutes, rateLimiters } from './rate-limits';
import { requestLogger } from './request-log';
import { JSON_TYPES, mountRoute } from './route';
import { campaignRoutes } from './routes/campaigns';
import { cooperativeRoutes } from './routes/cooperatives';
import { correctionRoutes } from './routes/corrections';
import { creditPurchaseRoutes } from './routes/credit-purchases';
import { deadLetterRoutes } from './routes/dead-letter';
import { economicEventRoutes } from './routes/economic-events';
import { networkReportRoutes } from './routes/network-reports';
import { eventRoutes } from './routes/events';
import { governanceRoutes } from './routes/governance';
import { healthRouter } from './routes/health';
import { identityProviderRoutes } from './routes/identity-providers';
import { holdRoutes } from './routes/holds';
import { memberRoutes } from './routes/members';
import { operationRoutes } from './routes/operations';
import { periodRoutes } from './routes/periods';
import { reconciliationRoutes } from './routes/reconciliations';
import { resourceRoutes } from './routes/resources';
import { rateCardRoutes } from './routes/rate-cards';
import { revenueRuleRoutes } from './routes/revenue-rules';
import { stakingRoutes } from './routes/staking';
import { streamRoutes } from './routes/streams';
import { stripeWebhookRouter } from './routes/stripe-webhook';
import { tokenPriceRoutes } from './routes/token-prices';
import { walletRoutes } from './routes/wallets';
import { webhookEndpointRoutes } from './routes/webhook-endpoints';

export function createApp(deps: ApiDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // Answers are per caller and current; hashing every body for an ETag cost more than it saved.
  app.set('etag', false);

  app.use(requestLogger(deps.logger));
  const metrics = createMetrics(() => networkReport(deps.pool), deps.config.api.metricsToken);
  app.use(metrics.middleware);
  app.get('/metrics', metrics.endpoint);
  app.use(healthRouter(deps));

  // Requests a route's gate will identify are limited there, by principal (api/route.ts); all others here, by address.
  const limiters = rateLimiters(deps.pool, deps.config.rateLimits);
  app.use((req, res, next) => (countedByRoute(req) ? next() : limiterBeforeRoutes(limiters, req)(req, res, next)));

  const registry = new OpenAPIRegistry();
  // Before the JSON parser: the webhook's signature is checked over the raw body.
  app.use(stripeWebhookRouter(deps, registry));
  const v1 = Router();
  const json = (limit: string) => express.json({ limit, strict: true, type: JSON_TYPES });
  const routes = [
    ...cooperativeRoutes(deps),
    ...memberRoutes(deps),
    ...walletRoutes(deps),
    ...holdRoutes(deps),
    ...rateCardRoutes(deps),
    ...operationRoutes(deps),
    ...reconciliationRoutes(deps),
    ...deadLetterRoutes(deps),
    ...creditPurchaseRoutes(deps),
    ...revenueRuleRoutes(deps),
    ...governanceRoutes(deps),
    ...webhookEndpointRoutes(deps),
    ...eventRoutes(deps),
    ...stakingRoutes(deps),
    ...campaignRoutes(deps),
    ...correctionRoutes(deps),
    ...streamRoutes(deps),
    ...tokenPriceRoutes(deps),
    ...periodRoutes(deps),
    ...identityProviderRoutes(deps),
    ...resourceRoutes(deps),
    ...economicEventRoutes(deps),
    ...networkReportRoutes(deps),
  ];
  // A route that takes many records in one request (a batch) parses its body first, with its own limit.
  for (const route of routes) if (route.bodyLimit) v1[route.method](route.path, json(route.bodyLimit));
  v1.use(json(deps.config.api.bodyLimit));
  const verifyPrincipal = principalVerifier(deps.pool);
  // A cooperative's own OIDC issuer's token, else the project's own (decision 0023).
  const federated = federatedAuthenticator(deps.pool, deps.config);
  const ownToken = tokenAuthenticator(deps.config.jwt);
  const gate = {
    authenticate: async (authorization: string | undefined) => {
      const auth = (await federated(authorization)) ?? (await ownToken(authorization));
      await verifyPrincipal(auth);
      return auth;
    },
    limiters,
  };
  for (const route of routes) mountRoute(v1, registry, gate, route);
  app.use(v1);

  const document = buildOpenApiDocument(registry);
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(document));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
