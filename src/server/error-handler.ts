// Every error leaves the server as an OpenAI-style body {error: {message, type, param, code}}
// with the status the OpenAI API uses: schema violations and malformed JSON are 400s, unknown
// routes 404, oversized bodies 413, a backend that can no longer run (its GPU device lost) 503,
// and anything unexpected a 500 (logged, never a stack trace).
import type { FastifyError, FastifyInstance } from 'fastify';
import { BackendUnusableError } from '../backends/backend.js';
import { CancelledError } from './engine.js';
import { ApiError, backendUnavailable, type ApiErrorType } from './errors.js';
import type { Metrics } from './metrics.js';

export function installErrorHandling(app: FastifyInstance, metrics: Metrics): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof CancelledError) {
      // The client went away; there is nobody to answer.
      req.log.debug('request cancelled by the client');
      return;
    }
    const apiError = toApiError(err);
    if (apiError.status >= 500) req.log.error({ err }, 'request failed');
    metrics.inc('rwkv_http_errors_total', 1, { status: String(apiError.status) });
    reply.code(apiError.status).headers(apiError.headers).send(apiError.body());
  });

  app.setNotFoundHandler((req, reply) => {
    metrics.inc('rwkv_http_errors_total', 1, { status: '404' });
    reply
      .code(404)
      .send(
        new ApiError(
          404,
          `Unknown request URL: ${req.method} ${req.url.split('?')[0]}.`,
          'invalid_request_error',
          null,
          'unknown_url',
        ).body(),
      );
  });
}

function toApiError(err: FastifyError): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof BackendUnusableError) return backendUnavailable(err.message);
  if (err.validation && err.validation.length > 0) {
    // Within anyOf, ajv reports every branch; the deepest path names the field most precisely.
    const first = err.validation.reduce((best, e) =>
      e.instancePath.length > best.instancePath.length ? e : best,
    );
    // A missing property is named by ajv in params, not in the path.
    const missing = (first.params as { missingProperty?: string }).missingProperty;
    const pointer = missing ? `${first.instancePath}/${missing}` : first.instancePath;
    const param = jsonPointerToParam(pointer, err.validationContext);
    const where = param ?? err.validationContext ?? 'body';
    return new ApiError(
      400,
      `Invalid '${where}': ${first.message ?? 'invalid value'}.`,
      'invalid_request_error',
      param,
    );
  }
  const status = err.statusCode ?? 500;
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(
        400,
        `We could not parse the JSON body of your request: ${err.message}`,
        'invalid_request_error',
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(
        413,
        'The request body is too large.',
        'invalid_request_error',
        null,
        'request_too_large',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(
        415,
        'Send the request body as application/json.',
        'invalid_request_error',
      );
  }
  if (err instanceof SyntaxError && status === 400) {
    return new ApiError(
      400,
      `We could not parse the JSON body of your request: ${err.message}`,
      'invalid_request_error',
    );
  }
  if (status >= 400 && status < 500) {
    const type: ApiErrorType = status === 404 ? 'not_found_error' : 'invalid_request_error';
    return new ApiError(status, err.message, type);
  }
  return new ApiError(
    500,
    'The server had an error while processing your request.',
    'server_error',
  );
}

/** "/messages/0/role" → "messages[0].role"; root errors name the missing property. */
function jsonPointerToParam(pointer: string, context: string | undefined): string | null {
  const parts = pointer.split('/').slice(1);
  if (parts.length === 0) return context === 'body' ? null : (context ?? null);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}
