import type {
  ContextConfigDefault,
  FastifyContextConfig,
  FastifyInstance,
  FastifySchema,
  FastifySchemaCompiler,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from 'fastify';
import { validatorCompiler, hasZodFastifySchemaValidationErrors, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { routes, type OperationId, type RouteContract } from '../../../shared/api/routes.ts';
import { publishBodySchema } from '../../../shared/api/events.ts';
import { mercurePublishForm, mercureSubscribeQuery, mercureSubscriberParams, mercureTopicParams } from '../../../shared/api/mercure.ts';
import { errorBodySchema } from '../../../shared/api.ts';
import type { FieldError } from '../../../shared/events.ts';
import { badRequest, type HubError } from '../errors.ts';

/**
 * Request parts the hub reads itself and that are declared for the API document only. The publish
 * body is parsed by the exact-number JSON reader (json-fidelity.ts) and checked event by event with
 * 422 errors per path; running the schema again would double the work on the hottest route. The
 * Mercure routes check their form, query and paths by the protocol's rules, with its answers
 * (routes/mercure.ts): a schema check in front would answer differently.
 */
const documentedOnly = new WeakSet<object>([publishBodySchema, mercurePublishForm, mercureSubscribeQuery, mercureTopicParams, mercureSubscriberParams]);

const passThrough = (data: unknown) => ({ value: data });

/**
 * Request parts are validated by fastify-type-provider-zod's compiler, so a route's handler gets
 * the parsed, typed values. Responses are sent as the handler built them (plain JSON.stringify):
 * a zod serializer would strip keys the schema does not name, and event `data` is delivered as
 * sent, whatever it holds. The response schemas still type the handlers (at compile time), feed
 * the API document, and are what clients and tests parse answers with.
 */
export function registerContract(app: FastifyInstance): void {
  const validate = validatorCompiler as FastifySchemaCompiler<z.ZodType>;
  app.setValidatorCompiler<z.ZodType>((route) => (documentedOnly.has(route.schema) ? passThrough : validate(route)));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
}

const WHERE: Record<string, string> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' };

/**
 * A request part that failed its schema, in the hub's error body: status 400, the field path and
 * the reason; an unknown key is named as such.
 */
export function validationError(err: unknown): HubError | null {
  if (!hasZodFastifySchemaValidationErrors(err)) return null;
  const where = WHERE[(err as { validationContext?: string }).validationContext ?? ''] ?? 'request';
  const fields: FieldError[] = err.validation.flatMap((v) => {
    const keys = (v.params as { keys?: string[] }).keys;
    if (v.keyword === 'unrecognized_keys' && keys) return keys.map((k) => ({ path: k, reason: `unknown ${where} parameter` }));
    return [{ path: v.instancePath.slice(1).replaceAll('/', '.') || where, reason: v.message ?? 'invalid' }];
  });
  return badRequest(`invalid ${where}: ${fields.map((f) => `${f.path} ${f.reason}`).join('; ')}`, fields.slice(0, 100));
}

/** Every error status shares one body; declared once per route for the API document. */
const errorResponses = {
  '4xx': { description: 'Refused: `error.fields` names each bad field and why (429: retry after Retry-After).', content: { 'application/json': { schema: errorBodySchema } } },
  '5xx': { description: 'The hub cannot serve it now (storage or Redis away); retry after Retry-After.', content: { 'application/json': { schema: errorBodySchema } } },
};

type Contract<K extends OperationId> = (typeof routes)[K];
type Part<C, P extends string> = C extends { [k in P]: infer S } ? S : undefined;

/** The Fastify route options (method, url, schema) of one operation of the shared contract. */
export function operation<K extends OperationId>(id: K) {
  const c: RouteContract = routes[id];
  const schema: FastifySchema & Record<string, unknown> = {
    operationId: id,
    summary: c.summary,
    tags: [...c.tags],
    response: { ...c.response, ...errorResponses },
  };
  if (c.params) schema.params = c.params;
  if (c.querystring) schema.querystring = c.querystring;
  if (c.body) schema.body = c.body;
  if (c.consumes) schema.consumes = [...c.consumes];
  if (c.description) schema.description = c.description;
  if (c.security) schema.security = c.security.map((r) => ({ ...r }));
  return {
    method: c.method,
    url: c.url,
    schema: schema as {
      params: Part<Contract<K>, 'params'>;
      querystring: Part<Contract<K>, 'querystring'>;
      body: Part<Contract<K>, 'body'>;
      response: Contract<K>['response'];
    },
  };
}

type SchemaOf<K extends OperationId> = ReturnType<typeof operation<K>>['schema'];
export type ContractHandler<K extends OperationId> = RouteHandlerMethod<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  RouteGenericInterface,
  ContextConfigDefault,
  SchemaOf<K>,
  ZodTypeProvider
>;

/**
 * Serve one operation of the shared contract: its method, path and schemas come from
 * shared/api/routes.ts, who may call it from `config.auth`, and the handler gets typed, parsed input.
 */
export function route<K extends OperationId>(app: FastifyInstance, id: K, config: FastifyContextConfig, handler: ContractHandler<K>): void {
  app.withTypeProvider<ZodTypeProvider>().route({ ...operation(id), config, handler });
}
